import type { LicenseStatus } from '../license/licensing.ts';
import { html, type Html } from './html.ts';

const stateNames: Record<LicenseStatus['state'], string> = {
  open_source: 'open-source mode',
  licensed: 'licensed',
  grace: 'expired, in its grace period',
  expired: 'expired: open-source mode',
};

/** The overview's licence table: what is in force, seats used and allowed, and any refusal or expiry warning. */
export function licensePanel(status: LicenseStatus): Html {
  const problems = [...status.errors, ...status.warnings];
  return html`<h2>Licence</h2>
    ${problems.map((p) => html`<p class="flash error" role="alert" data-testid="license-problem">${p}</p>`)}
    <table aria-label="Licence"><tbody>
      <tr><th>State</th><td data-testid="license-state">${stateNames[status.state]}</td></tr>
      ${status.licensee ? html`<tr><th>Licensee</th><td>${status.licensee}</td></tr>
        <tr><th>Expires</th><td>end of ${status.expires} (grace until the end of ${status.grace_ends})</td></tr>` : ''}
      <tr><th>Seats</th><td data-testid="license-seats">${status.seats.used} of ${status.seats.allowed} used (active people, not bots; ${status.seats.free} without a licence)</td></tr>
      <tr><th>Features</th><td>${status.features.length ? status.features.join(', ') : 'none'}</td></tr>
    </tbody></table>`;
}

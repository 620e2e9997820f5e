import { htmlEscape } from 'escape-goat';

/** Markup that is already safe: made by `html`, whose every interpolated value was escaped. */
export class Html {
  readonly markup: string;
  constructor(markup: string) {
    this.markup = markup;
  }
  toString(): string {
    return this.markup;
  }
}

export type Fragment = Html | string | number | bigint | boolean | Date | null | undefined | readonly Fragment[];

function render(value: Fragment): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Date) return htmlEscape(value.toISOString().replace('T', ' ').slice(0, 19));
  return htmlEscape(String(value));
}

/**
 * The console's only way to write markup: a tagged template whose interpolations are escaped (escape-goat), unless
 * they are `Html` themselves (nested templates) or lists of those. No value reaches a page unescaped.
 */
export function html(strings: TemplateStringsArray, ...values: Fragment[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

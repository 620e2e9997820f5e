import { z, IdParams, Name, Text } from './common.ts';
import { endpoint } from './endpoint.ts';
import { Password, TokenResponse } from './auth.ts';
import { Channel } from './channels.ts';
import { Group } from './groups.ts';

const Description = Text().trim().max(1000);

const atLeastOne = (body: object) => Object.values(body).some((v) => v !== undefined);

export const UpdateGroupRequest = z
  .strictObject({ name: Name(100).optional(), description: Description.optional() })
  .refine(atLeastOne, { message: 'give name, description or both' })
  .openapi('UpdateGroupRequest');

export const UpdateChannelRequest = z
  .strictObject({ name: Name(80).optional(), description: Description.optional() })
  .refine(atLeastOne, { message: 'give name, description or both' })
  .openapi('UpdateChannelRequest');

export const ChangePasswordRequest = z
  .strictObject({ current_password: Text().min(1).max(256), new_password: Password })
  .openapi('ChangePasswordRequest');

export const DeleteAccountRequest = z.strictObject({ password: Text().min(1).max(256) }).openapi('DeleteAccountRequest');

// Renaming, archiving and deleting groups and channels, and a user's own password and account.
export const lifecycleEndpoints = {
  updateGroup: endpoint({
    method: 'patch', path: '/api/groups/:id', tag: 'groups', auth: true,
    summary: 'Rename or describe a group (owners and admins)', params: IdParams, body: UpdateGroupRequest,
    status: 200, response: Group, errors: [403, 404],
  }),
  deleteGroup: endpoint({
    method: 'delete', path: '/api/groups/:id', tag: 'groups', auth: true,
    summary: 'Delete a group with all its channels, their content and files (owners)', params: IdParams,
    status: 204, response: null, errors: [403, 404],
  }),
  updateChannel: endpoint({
    method: 'patch', path: '/api/channels/:id', tag: 'channels', auth: true,
    summary: 'Rename or describe a channel (owners and admins); names stay unique in the group', params: IdParams,
    body: UpdateChannelRequest, status: 200, response: Channel, errors: [403, 404, 409],
  }),
  archiveChannel: endpoint({
    method: 'post', path: '/api/channels/:id/archive', tag: 'channels', auth: true,
    summary: 'Archive a channel: read-only for everyone, over REST and /collab (owners and admins)',
    params: IdParams, status: 200, response: Channel, errors: [403, 404],
  }),
  unarchiveChannel: endpoint({
    method: 'post', path: '/api/channels/:id/unarchive', tag: 'channels', auth: true,
    summary: 'Make an archived channel writable again (owners and admins)', params: IdParams, status: 200,
    response: Channel, errors: [403, 404],
  }),
  deleteChannel: endpoint({
    method: 'delete', path: '/api/channels/:id', tag: 'channels', auth: true,
    summary: 'Delete a channel, its content, files and search index (owners)', params: IdParams, status: 204,
    response: null, errors: [403, 404],
  }),
  changePassword: endpoint({
    method: 'post', path: '/api/auth/password', tag: 'auth', auth: true,
    summary: "Change the caller's password; every other session is signed out, this one gets a new token pair",
    body: ChangePasswordRequest, status: 200, response: TokenResponse, errors: [401, 429],
  }),
  deleteAccount: endpoint({
    method: 'delete', path: '/api/auth/me', tag: 'auth', auth: true,
    summary: "Delete the caller's account: anonymised, its content kept and shown as a deleted user",
    body: DeleteAccountRequest, status: 204, response: null, errors: [401, 409, 429],
  }),
};

import { z, ChannelIdParams, IdParams } from './common.ts';
import { endpoint } from './endpoint.ts';
import { LogoutRequest, RefreshRequest, RegisterRequest, TokenRequest, TokenResponse, User } from './auth.ts';
import {
  AddMemberRequest,
  AuditEntry,
  CreateGroupRequest,
  Group,
  Member,
  MemberParams,
  PageQuery,
  PeopleQuery,
  Person,
  UpdateMemberRequest,
} from './groups.ts';
import { Channel, CreateChannelRequest, CreateDmRequest } from './channels.ts';
import {
  Board,
  Card,
  Column,
  CreateCardRequest,
  CreateColumnRequest,
  CreateTaskRequest,
  ItemParams,
  MessagePage,
  MessagesQuery,
  MoveCardRequest,
  Page,
  PatchPageRequest,
  PutPageRequest,
  Task,
  UpdateCardRequest,
  UpdateTaskRequest,
} from './content.ts';
import { Call, TurnCredentials } from './calls.ts';
import { aiEndpoints } from './ai.ts';
import { lifecycleEndpoints } from './lifecycle.ts';
import { FileInfo, fileContentTypes, UploadForm } from './files.ts';

export const authEndpoints = {
  register: endpoint({
    method: 'post', path: '/api/auth/register', tag: 'auth', auth: false,
    summary: 'Create an account (403 `license_required` when every seat is taken)', body: RegisterRequest,
    status: 201, response: User, errors: [403, 409, 429],
  }),
  token: endpoint({
    method: 'post', path: '/api/auth/token', tag: 'auth', auth: false, bodyEncoding: 'form',
    summary: 'Log in (OAuth2 password flow); `username` may be the email', body: TokenRequest, status: 200,
    response: TokenResponse, errors: [401, 429],
  }),
  refresh: endpoint({
    method: 'post', path: '/api/auth/refresh', tag: 'auth', auth: false,
    summary: 'Exchange a refresh token for a new pair; reusing a spent token revokes its whole family',
    body: RefreshRequest, status: 200, response: TokenResponse, errors: [401],
  }),
  logout: endpoint({
    method: 'post', path: '/api/auth/logout', tag: 'auth', auth: false,
    summary: "Revoke a refresh token's family", body: LogoutRequest, status: 204, response: null,
  }),
  me: endpoint({
    method: 'get', path: '/api/auth/me', tag: 'auth', auth: true, summary: 'The calling user', status: 200,
    response: User,
  }),
};

export const groupEndpoints = {
  listPeople: endpoint({
    method: 'get', path: '/api/users', tag: 'groups', auth: true,
    summary: 'Names for user ids the caller may see (sharing a group or a DM, themselves, bots); others are left out',
    query: PeopleQuery, status: 200, response: z.array(Person),
  }),
  createGroup: endpoint({
    method: 'post', path: '/api/groups', tag: 'groups', auth: true,
    summary: 'Create a group; the caller becomes its owner', body: CreateGroupRequest, status: 201, response: Group,
  }),
  listGroups: endpoint({
    method: 'get', path: '/api/groups', tag: 'groups', auth: true, summary: "The caller's groups", status: 200,
    response: z.array(Group),
  }),
  getGroup: endpoint({
    method: 'get', path: '/api/groups/:id', tag: 'groups', auth: true, summary: 'One group (members only)',
    params: IdParams, status: 200, response: Group, errors: [404],
  }),
  addMember: endpoint({
    method: 'post', path: '/api/groups/:id/members', tag: 'groups', auth: true,
    summary: 'Add a member (owners and admins)', params: IdParams, body: AddMemberRequest, status: 201,
    response: Member, errors: [403, 404, 409],
  }),
  listMembers: endpoint({
    method: 'get', path: '/api/groups/:id/members', tag: 'groups', auth: true, summary: "The group's members",
    params: IdParams, status: 200, response: z.array(Member), errors: [404],
  }),
  updateMember: endpoint({
    method: 'patch', path: '/api/groups/:id/members/:user_id', tag: 'groups', auth: true,
    summary: "Change a member's role (owners and admins)", params: MemberParams, body: UpdateMemberRequest,
    status: 200, response: Member, errors: [403, 404, 409],
  }),
  removeMember: endpoint({
    method: 'delete', path: '/api/groups/:id/members/:user_id', tag: 'groups', auth: true,
    summary: 'Remove a member (owners and admins), or leave the group', params: MemberParams, status: 204,
    response: null, errors: [403, 404, 409],
  }),
  auditLog: endpoint({
    method: 'get', path: '/api/groups/:id/audit', tag: 'groups', auth: true,
    summary: "The group's audit log, newest first (owners and admins)", params: IdParams, query: PageQuery,
    status: 200, response: z.array(AuditEntry), errors: [403, 404],
  }),
};

export const channelEndpoints = {
  createChannel: endpoint({
    method: 'post', path: '/api/groups/:id/channels', tag: 'channels', auth: true,
    summary: 'Create a channel (members, admins and owners)', params: IdParams, body: CreateChannelRequest,
    status: 201, response: Channel, errors: [403, 404, 409],
  }),
  listChannels: endpoint({
    method: 'get', path: '/api/groups/:id/channels', tag: 'channels', auth: true, summary: "The group's channels",
    params: IdParams, status: 200, response: z.array(Channel), errors: [404],
  }),
  getChannel: endpoint({
    method: 'get', path: '/api/channels/:id', tag: 'channels', auth: true,
    summary: 'One channel (members of its group, or the participants of a DM)', params: IdParams, status: 200,
    response: Channel, errors: [404],
  }),
  openDm: endpoint({
    method: 'post', path: '/api/dms', tag: 'channels', auth: true,
    summary: 'The DM channel with a user who shares a group with the caller (201 when new, 200 when it existed)',
    body: CreateDmRequest, status: 201, response: Channel, errors: [404, 422],
  }),
  listDms: endpoint({
    method: 'get', path: '/api/dms', tag: 'channels', auth: true, summary: "The caller's DM channels",
    status: 200, response: z.array(Channel),
  }),
};

// Content lives in each channel's Yjs document; these read and change the live document, so connected clients
// see REST changes at once. Writes need the member role; viewers read.
export const contentEndpoints = {
  listTasks: endpoint({
    method: 'get', path: '/api/channels/:id/tasks', tag: 'tasks', auth: true, summary: 'Tasks of a TODO channel, in order',
    params: IdParams, status: 200, response: z.array(Task), errors: [404],
  }),
  createTask: endpoint({
    method: 'post', path: '/api/channels/:id/tasks', tag: 'tasks', auth: true, summary: 'Add a task',
    params: IdParams, body: CreateTaskRequest, status: 201, response: Task, errors: [403, 404],
  }),
  updateTask: endpoint({
    method: 'put', path: '/api/tasks/:id', tag: 'tasks', auth: true,
    summary: 'Change a task: only the fields given; `position` moves it', params: ItemParams, body: UpdateTaskRequest,
    status: 200, response: Task, errors: [403, 404],
  }),
  deleteTask: endpoint({
    method: 'delete', path: '/api/tasks/:id', tag: 'tasks', auth: true, summary: 'Delete a task', params: ItemParams,
    status: 204, response: null, errors: [403, 404],
  }),
  getPage: endpoint({
    method: 'get', path: '/api/channels/:id/document', tag: 'documents', auth: true,
    summary: 'The page of a DOC channel, as ProseMirror JSON, plain text and Markdown', params: IdParams, status: 200,
    response: Page, errors: [404],
  }),
  putPage: endpoint({
    method: 'put', path: '/api/channels/:id/document', tag: 'documents', auth: true,
    summary: 'Replace the page, from ProseMirror JSON, plain text or Markdown', params: IdParams, body: PutPageRequest,
    status: 200, response: Page, errors: [403, 404],
  }),
  patchPage: endpoint({
    method: 'patch', path: '/api/channels/:id/document', tag: 'documents', auth: true, summary: "Change the page's title",
    params: IdParams, body: PatchPageRequest, status: 200, response: Page, errors: [403, 404],
  }),
  getBoard: endpoint({
    method: 'get', path: '/api/channels/:id/kanban', tag: 'kanban', auth: true,
    summary: 'The board of a KANBAN channel: columns in order with their cards in order', params: IdParams,
    status: 200, response: Board, errors: [404],
  }),
  createColumn: endpoint({
    method: 'post', path: '/api/channels/:id/kanban/columns', tag: 'kanban', auth: true, summary: 'Add a column',
    params: IdParams, body: CreateColumnRequest, status: 201, response: Column, errors: [403, 404],
  }),
  createCard: endpoint({
    method: 'post', path: '/api/kanban/columns/:id/cards', tag: 'kanban', auth: true, summary: 'Add a card to a column',
    params: ItemParams, body: CreateCardRequest, status: 201, response: Card, errors: [403, 404],
  }),
  updateCard: endpoint({
    method: 'put', path: '/api/kanban/cards/:id', tag: 'kanban', auth: true, summary: "Change a card's content",
    params: ItemParams, body: UpdateCardRequest, status: 200, response: Card, errors: [403, 404],
  }),
  moveCard: endpoint({
    method: 'put', path: '/api/kanban/cards/:id/move', tag: 'kanban', auth: true,
    summary: 'Move a card to a position in a column (concurrent moves leave it in exactly one place)',
    params: ItemParams, body: MoveCardRequest, status: 200, response: Card, errors: [403, 404],
  }),
  listMessages: endpoint({
    method: 'get', path: '/api/channels/:id/messages', tag: 'messages', auth: true,
    summary: 'Message history of a TEXT or DM channel, newest page first (`before` pages back)', params: IdParams,
    query: MessagesQuery, status: 200, response: MessagePage, errors: [404],
  }),
};

export const callEndpoints = {
  turnCredentials: endpoint({
    method: 'get', path: '/api/webrtc/turn-credentials', tag: 'calls', auth: true,
    summary: 'Time-limited TURN credentials (coturn REST-API scheme)', status: 200, response: TurnCredentials,
    errors: [503],
  }),
  getCall: endpoint({
    method: 'get', path: '/api/channels/:id/call', tag: 'calls', auth: true,
    summary: 'Who is in the call of a VOICE channel', params: IdParams, status: 200, response: Call, errors: [404, 503],
  }),
};

// Files are kept encrypted and indexed for AI search; their type is decided by their content.
export const fileEndpoints = {
  uploadFile: endpoint({
    method: 'post', path: '/api/files/upload/:channel_id', tag: 'files', auth: true,
    summary: 'Upload a PDF, plain text or Markdown file to a channel (not VOICE); members and above',
    params: ChannelIdParams, multipart: UploadForm, status: 201, response: FileInfo, errors: [403, 404],
  }),
  listFiles: endpoint({
    method: 'get', path: '/api/channels/:id/files', tag: 'files', auth: true,
    summary: "The channel's files, newest first", params: IdParams, status: 200, response: z.array(FileInfo),
    errors: [404],
  }),
  downloadFile: endpoint({
    method: 'get', path: '/api/files/:id', tag: 'files', auth: true,
    summary: 'The original bytes of a file, as an attachment', params: IdParams, status: 200, response: null,
    binaryResponse: fileContentTypes, errors: [404],
  }),
};

export const endpoints = {
  ...authEndpoints, ...groupEndpoints, ...channelEndpoints, ...contentEndpoints, ...callEndpoints, ...fileEndpoints, ...aiEndpoints,
  ...lifecycleEndpoints,
};

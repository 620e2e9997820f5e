// The API's shapes, as the server's zod schemas define them (types only: nothing of zod reaches the bundle).
import type { z } from 'zod';
import type { AiSource, SearchResponse, SummaryResponse } from '../../../schema/api/ai.ts';
import type { Call, TurnCredentials } from '../../../schema/api/calls.ts';
import type { Channel, ChannelType } from '../../../schema/api/channels.ts';
import type { FileInfo } from '../../../schema/api/files.ts';
import type { Group, Member, Role } from '../../../schema/api/groups.ts';

export type GroupInfo = z.infer<typeof Group>;
export type MemberInfo = z.infer<typeof Member>;
export type RoleName = z.infer<typeof Role>;
export type ChannelInfo = z.infer<typeof Channel>;
export type ChannelKind = z.infer<typeof ChannelType>;
export type FileDetails = z.infer<typeof FileInfo>;
export type SearchAnswer = z.infer<typeof SearchResponse>;
export type SearchSource = z.infer<typeof AiSource>;
export type Summary = z.infer<typeof SummaryResponse>;
export type TurnCredentialsInfo = z.infer<typeof TurnCredentials>;
export type CallInfo = z.infer<typeof Call>;

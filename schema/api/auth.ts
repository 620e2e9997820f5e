import { z, Text, Timestamp, Uuid } from './common.ts';

export const Username = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-", starting with a letter or digit');

/** Long enough to resist guessing, bounded so hashing stays cheap for the server. */
export const Password = Text().min(10, 'at least 10 characters').max(256);

export const RegisterRequest = z
  .strictObject({
    username: Username,
    email: z.email().max(254),
    password: Password,
    display_name: Text().trim().min(1).max(64).optional(),
  })
  .openapi('RegisterRequest');

export const User = z
  .object({
    id: Uuid,
    username: z.string(),
    email: z.string(),
    display_name: z.string().nullable(),
    is_active: z.boolean(),
    created_at: Timestamp,
  })
  .openapi('User');

/** OAuth2 password flow (RFC 6749 §4.3), form-encoded. `username` may also be the account's email. */
export const TokenRequest = z
  .strictObject({
    grant_type: z.literal('password').optional(),
    username: Text().min(1).max(254),
    password: Text().min(1).max(256),
    scope: Text().max(256).optional(),
    client_id: Text().max(256).optional(),
    client_secret: Text().max(256).optional(),
  })
  .openapi('TokenRequest');

export const TokenResponse = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int().openapi({ description: 'lifetime of the access token in seconds' }),
  })
  .openapi('TokenResponse');

export const RefreshRequest = z.strictObject({ refresh_token: Text().min(1).max(512) }).openapi('RefreshRequest');

export const LogoutRequest = RefreshRequest;

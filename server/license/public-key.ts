// The key that signs our licences (Ed25519, raw 32 bytes in base64url). Its private half is not in this
// repository. LICENSE_PUBLIC_KEY replaces it, for tests and for deployments that sign their own licences.
export const BUILT_IN_PUBLIC_KEY = 'uK7lyOubZL7ilY9FBeoQxYZ2xkbcVwtnoIaBWzCdpGs';

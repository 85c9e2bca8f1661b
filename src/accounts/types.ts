/** What the account pool knows about an account; providers keep their own credential shapes. */
import type { ModelRoute } from '../routing/routes.js';
import type { ClientKey } from '../keys/key.js';

export type Strategy = 'round-robin' | 'weighted' | 'sticky';

export interface Account {
  /** unique within the store */
  id: string;
  /** provider id this account belongs to, e.g. "gemini-enterprise" */
  provider: string;
  label?: string;
  enabled: boolean;
  /** weighted selection: relative share of requests (default 100) */
  weight: number;
  /** outbound proxy for this account only; overrides the store's global proxy */
  proxy?: string;
  /** provider-specific secrets: never logged, masked in every API answer */
  credentials: Record<string, string>;
  /** set when the upstream rejected the credentials; cleared when they are edited or tested good */
  disabledReason?: string;
}

export interface ProviderSettings {
  strategy?: Strategy;
  /** models this provider serves (API providers list them from config) */
  models?: string[];
  /** tries across accounts before a request fails (0 = every account once) */
  maxAttempts?: number;
  [key: string]: unknown;
}

export interface StoreData {
  /** global outbound proxy for API providers ("" = direct) */
  proxy: string;
  providers: Record<string, ProviderSettings>;
  accounts: Account[];
  /** model aliases added in the admin console (over MODEL_ALIASES) */
  aliases: Record<string, string>;
  /** model routes added in the admin console (tried before MODEL_ROUTES) */
  routes: ModelRoute[];
  /** client keys (hashes only), made in the admin console */
  keys: ClientKey[];
}

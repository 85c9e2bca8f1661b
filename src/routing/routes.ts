/**
 * Model routes: a model name or glob -> an ordered list of targets, each tried when the
 * one before cannot start the answer. Written in `.env` as one line
 *   MODEL_ROUTES="claude-sonnet-4-5*=kiro/claude-sonnet-4.5,cloudcode/claude-sonnet-4-5-thinking,claude-cli; gpt-5*=codex"
 * (routes separated by ";", targets by ","), and in the admin API as JSON. A target is
 * `provider/model`, or a provider id alone: that provider asked for the requested name.
 */
import { z } from 'zod';

export interface ModelRoute {
  /** a model name or glob ("*" any run of characters, "?" one) */
  match: string;
  /** `provider/model` or `provider`, in the order they are tried */
  targets: string[];
}

const pattern = z.string().regex(/^[\w.:@*?-]{1,128}$/, 'a model name or glob (letters, digits, . _ : @ - * ?)');
const target = z.string().regex(/^[\w.-]{1,64}(\/[\w.:@/-]{1,160})?$/, 'provider/model or a provider id');

export const modelRouteSchema = z.strictObject({
  match: pattern,
  targets: z.array(target).min(1).max(16),
});

export const modelRoutesSchema = z
  .array(modelRouteSchema)
  .max(500)
  .refine((rs) => new Set(rs.map((r) => r.match)).size === rs.length, 'each match at most once');

/** the one-line `.env` form; throws a message naming the part that is wrong */
export function parseRoutes(line: string): ModelRoute[] {
  const routes: ModelRoute[] = [];
  for (const part of line.split(';').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const match = part.slice(0, eq).trim();
    const targets = part.slice(eq + 1).split(',').map((s) => s.trim()).filter(Boolean);
    const parsed = modelRouteSchema.safeParse({ match, targets });
    if (eq <= 0 || !parsed.success) {
      throw new Error(`"${part}" is not a route (name-or-glob=provider/model,provider/model,…)${parsed.success ? '' : `: ${parsed.error.issues[0]?.message}`}`);
    }
    routes.push(parsed.data);
  }
  const all = modelRoutesSchema.safeParse(routes);
  if (!all.success) throw new Error(all.error.issues[0]?.message ?? 'invalid routes');
  return routes;
}

/** the `.env` form of routes (the console shows it, ready to paste) */
export function formatRoutes(routes: readonly ModelRoute[]): string {
  return routes.map((r) => `${r.match}=${r.targets.join(',')}`).join('; ');
}

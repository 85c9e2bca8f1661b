/**
 * Tool schemas as the Gemini side of Cloud Code accepts them: an OpenAPI subset. JSON
 * Schema keywords it rejects are dropped ($schema, $id, $ref/$defs after inlining,
 * additionalProperties, default, examples, title, pattern-ish extras), `const` becomes a
 * one-value enum, a type array with "null" becomes the type plus `nullable`, and
 * anyOf/oneOf with a null branch collapse the same way.
 */
type Json = Record<string, unknown>;

const DROP = new Set([
  '$schema', '$id', '$comment', '$defs', 'definitions', 'additionalProperties', 'unevaluatedProperties', 'default', 'examples',
  'title', 'patternProperties', 'dependentRequired', 'dependentSchemas', 'propertyNames', 'exclusiveMinimum', 'exclusiveMaximum',
  'contentEncoding', 'contentMediaType', 'readOnly', 'writeOnly', 'deprecated', 'if', 'then', 'else', 'not', 'strict',
]);
const FORMATS = new Set(['enum', 'date-time']);

function resolveRef(ref: string, root: Json): Json | undefined {
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!m) return undefined;
  return (root[m[1]!] as Json | undefined)?.[m[2]!] as Json | undefined;
}

export function sanitizeSchema(schema: unknown, root: Json = schema as Json, depth = 0): Json {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema) || depth > 24) return { type: 'object' };
  let s = schema as Json;
  if (typeof s.$ref === 'string') {
    const target = resolveRef(s.$ref, root);
    s = target ? { ...target, ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) } : { type: 'object' };
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (DROP.has(k) || k === '$ref') continue;
    if (k === 'const') out.enum = [String(v)]; // Gemini enums are strings
    else if (k === 'format') {
      if (typeof v === 'string' && FORMATS.has(v)) out.format = v;
    } else if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      out.type = types[0] ?? 'string';
      if (types.length < v.length) out.nullable = true;
    } else if ((k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      const branches = v.filter((b) => !(b && typeof b === 'object' && (b as Json).type === 'null'));
      if (branches.length < v.length) out.nullable = true;
      if (branches.length === 1) Object.assign(out, sanitizeSchema(branches[0], root, depth + 1));
      else out.anyOf = branches.map((b) => sanitizeSchema(b, root, depth + 1));
    } else if (k === 'allOf' && Array.isArray(v)) {
      for (const b of v) {
        const part = sanitizeSchema(b, root, depth + 1);
        out.properties = { ...(out.properties as Json | undefined), ...(part.properties as Json | undefined) };
        if (Array.isArray(part.required)) out.required = [...new Set([...((out.required as string[]) ?? []), ...part.required])];
        if (part.type && !out.type) out.type = part.type;
      }
    } else if (k === 'properties' && v && typeof v === 'object') {
      out.properties = Object.fromEntries(Object.entries(v as Json).map(([name, p]) => [name, sanitizeSchema(p, root, depth + 1)]));
    } else if (k === 'items') {
      out.items = sanitizeSchema(Array.isArray(v) ? v[0] : v, root, depth + 1);
    } else if (k === 'enum' && Array.isArray(v)) {
      out.enum = v.filter((x) => x !== null).map(String);
    } else out[k] = v;
  }
  if (Array.isArray(out.required) && out.properties) {
    const props = out.properties as Json;
    out.required = (out.required as string[]).filter((r) => r in props);
  }
  if (!out.type && out.properties) out.type = 'object';
  // Gemini takes enums of strings only
  if (out.enum) out.type = 'string';
  return out;
}

import {
  ConfigError,
  compilePersonalData,
  type FieldProblem,
  InputError,
  type JsonValue,
  type PersonalDataOverride,
  pointerChild,
} from "@sealtrail/core";
import type { StandardJSONSchemaV1, StandardSchemaV1 } from "@standard-schema/spec";

/** Action name → schema of that action's payload (the event's `metadata`). Any Standard Schema works. */
export type EventSchemas = { readonly [action: string]: StandardSchemaV1 };

/** The payload an action accepts, as its schema's input type. */
export type PayloadOf<S extends EventSchemas, A extends keyof S> = StandardSchemaV1.InferInput<S[A]>;

/** Per catalogued action: personal paths beyond the defaults and/or another data subject (docs/personal-data.md). */
export type CatalogPersonalData<S extends EventSchemas> = { readonly [A in keyof S & string]?: PersonalDataOverride };

export interface CatalogOptions<Strict extends boolean, S extends EventSchemas = EventSchemas> {
  /** Refuse actions the catalog does not list (default false: unlisted actions pass unvalidated). */
  readonly strict?: Strict;
  /**
   * Turns one schema into JSON Schema, for libraries that do not implement Standard JSON Schema
   * (`~standard.jsonSchema`, which Zod 4 does). Return draft 2020-12.
   */
  readonly toJSONSchema?: (schema: StandardSchemaV1, action: string) => Record<string, unknown>;
  /**
   * Which of an action's values are personal, encrypted under their subject's key before the leaf
   * is formed (crypto-shredding): `{ "user.invited": { personal: ["metadata.inviteeEmail"],
   * subject: "metadata.inviteeId" } }`. Paths as in `PersonalDataConfig`; checked here.
   */
  readonly personal?: CatalogPersonalData<S>;
}

type JsonObject = { [key: string]: JsonValue };

export interface EventCatalog<S extends EventSchemas = EventSchemas, Strict extends boolean = boolean> {
  readonly schemas: S;
  readonly strict: Strict;
  readonly actions: readonly string[];
  /**
   * Validates an action's payload. Resolves with the schema's output (defaults applied) to store
   * as `metadata`; throws InputError `invalid_event` with a JSON pointer per issue under
   * `<base>/metadata`, or `unknown_action` (at `<base>/action`) in strict mode. `base` is the
   * event's own pointer: "" for a single event, `/events/3` in a batch.
   */
  validate(action: string, payload: unknown, base?: string): Promise<JsonObject | undefined>;
  /** The catalog as one JSON Schema (draft 2020-12) that a stored event's action and metadata satisfy. */
  toJSONSchema(): Record<string, unknown>;
  /** The catalog's personal-data marks, as `PersonalDataConfig.actions` (empty when it marks none). */
  readonly personalData: Readonly<Record<string, PersonalDataOverride>>;
}

const ACTION = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/**
 * Declares the events an app records, one schema per action:
 *
 *     const events = defineEvents({ "document.shared": z.object({ documentId: z.string(), with: z.string().email() }) });
 *     const audit = await createAuditLog({ path: "./audit", catalog: events });
 *     await audit.record("document.shared", { documentId: "doc_9", with: "bo@example.com" });
 *
 * The payload is type-checked against the schema's input type and validated at run time.
 */
export function defineEvents<const S extends EventSchemas, Strict extends boolean = false>(
  schemas: S,
  options: CatalogOptions<Strict, S> = {},
): EventCatalog<S, Strict> {
  const actions = Object.keys(schemas).sort();
  for (const action of actions) {
    if (!ACTION.test(action))
      throw new ConfigError("invalid_catalog", `catalog action "${action}" is not dot-separated segments like document.shared`);
    const schema = schemas[action] as StandardSchemaV1 | undefined;
    if (typeof schema?.["~standard"]?.validate !== "function") {
      throw new ConfigError("invalid_catalog", `catalog action "${action}" has no Standard Schema (an object with ~standard.validate)`);
    }
  }
  const personalData = catalogPersonalData(options.personal ?? {}, schemas);
  const strict = (options.strict ?? false) as Strict;
  const has = (action: string) => Object.hasOwn(schemas, action);

  return Object.freeze({
    schemas,
    strict,
    actions: Object.freeze(actions),
    personalData,
    async validate(action: string, payload: unknown, base = "") {
      if (!has(action)) {
        if (!strict) return payload as JsonObject | undefined;
        throw new InputError("unknown_action", `action ${action} is not in the event catalog`, {
          problems: [{ pointer: pointerChild(base, "action"), detail: `is not in the catalog; known actions: ${actions.join(", ")}` }],
        });
      }
      const pointer = pointerChild(base, "metadata");
      const result = await (schemas[action] as StandardSchemaV1)["~standard"].validate(payload);
      if (result.issues) {
        const problems: FieldProblem[] = result.issues.map((issue) => ({ pointer: issuePointer(pointer, issue), detail: issue.message }));
        const first = problems[0] as FieldProblem;
        const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
        throw new InputError("invalid_event", `${first.pointer} ${first.detail}${more}`, { problems });
      }
      const value = result.value;
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ConfigError("invalid_catalog", `the schema of ${action} must describe an object: it becomes the event's metadata`);
      }
      return value as JsonObject;
    },
    toJSONSchema() {
      const defs: Record<string, unknown> = {};
      for (const action of actions) defs[action] = jsonSchemaOf(schemas[action] as StandardSchemaV1, action, options.toJSONSchema);
      const known = actions.map((action) => ({
        properties: { action: { const: action }, metadata: { $ref: `#/$defs/${escapeRef(action)}` } },
        required: ["action", "metadata"],
      }));
      const other = strict ? [] : [{ properties: { action: { not: { enum: actions } } } }];
      return {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        title: "Sealtrail event catalog",
        description: strict
          ? "Every event has one of these actions, with metadata matching its schema."
          : "Events with a listed action have metadata matching its schema; other actions are not constrained.",
        type: "object",
        required: ["action"],
        oneOf: [...known, ...other],
        $defs: defs,
      };
    },
  });
}

/** Checks the marks at definition time: catalogued actions only, and paths the policy knows. */
function catalogPersonalData(marks: Record<string, PersonalDataOverride | undefined>, schemas: EventSchemas) {
  const out: Record<string, PersonalDataOverride> = {};
  for (const [action, mark] of Object.entries(marks)) {
    if (mark === undefined) continue;
    if (!Object.hasOwn(schemas, action))
      throw new ConfigError("invalid_catalog", `personal data is marked for "${action}", which is not in the catalog`);
    out[action] = Object.freeze({
      ...(mark.subject === undefined ? {} : { subject: mark.subject }),
      ...(mark.personal === undefined ? {} : { personal: Object.freeze([...mark.personal]) }),
    });
  }
  // Refuses unknown paths (invalid_personal_data_config) now, not at the first record.
  compilePersonalData({ actions: out });
  return Object.freeze(out);
}

/** RFC 6901 pointer of a Standard Schema issue path, under the payload's own pointer. */
function issuePointer(base: string, issue: StandardSchemaV1.Issue): string {
  let pointer = base;
  for (const segment of issue.path ?? []) {
    const key = typeof segment === "object" && segment !== null ? (segment as StandardSchemaV1.PathSegment).key : segment;
    pointer = pointerChild(pointer, typeof key === "symbol" ? (key.description ?? "") : (key as string | number));
  }
  return pointer;
}

/** `$ref` values are JSON pointers (RFC 6901) inside a URI fragment: `~` and `/` escaped. */
function escapeRef(name: string): string {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

function jsonSchemaOf(
  schema: StandardSchemaV1,
  action: string,
  convert: ((schema: StandardSchemaV1, action: string) => Record<string, unknown>) | undefined,
): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  try {
    if (convert) out = convert(schema, action);
    else {
      const standard = schema["~standard"] as Partial<StandardJSONSchemaV1.Props>;
      out = standard.jsonSchema?.input({ target: "draft-2020-12" });
    }
  } catch (cause) {
    throw new ConfigError("schema_not_convertible", `the schema of ${action} cannot be converted to JSON Schema`, { cause });
  }
  if (!out) {
    throw new ConfigError(
      "schema_not_convertible",
      `the schema of ${action} (${schema["~standard"].vendor}) does not implement Standard JSON Schema; pass defineEvents(..., { toJSONSchema })`,
    );
  }
  // Nested under $defs, a schema's own $schema keyword is noise (and invalid below the root in 2019-09+).
  const { $schema: _dialect, ...rest } = out;
  return rest;
}

import { type EventChanges, type JsonValue, NotFoundError, type Target } from "@sealtrail/core";
import type { Kysely } from "kysely";
import { diffChanges } from "./diff.js";

/** An AuditLog from `sealtrail`: it adds actor and request context from the audit middleware. */
export interface ChangeRecorder {
  record(event: never): Promise<unknown>;
}

export interface TableCapture {
  /** The primary key column (default `id`). */
  readonly key?: string;
  /** Target type and action prefix (default: the table name), e.g. `user` → `user.updated`. */
  readonly type?: string;
  /** Columns never written to the log, in addition to the global list. */
  readonly exclude?: readonly string[];
}

export interface KyselyCaptureOptions {
  readonly audit: ChangeRecorder;
  /** Columns excluded from every table (e.g. `password_hash`, `api_token`). */
  readonly exclude?: readonly string[];
  readonly tables?: Readonly<Record<string, TableCapture>>;
}

type Row = Record<string, unknown>;
type AnyDb = Kysely<Record<string, Row>>;
/** Added to the recorded event: more targets (the row is always the first), and metadata. */
export interface CaptureExtras {
  readonly targets?: Target[];
  readonly metadata?: { [key: string]: JsonValue };
}

export interface CapturedChange<R> {
  readonly before: R | undefined;
  readonly after: R | undefined;
  /** The fields that changed (excluded ones redacted), as recorded; undefined when nothing did. */
  readonly changes: EventChanges | undefined;
}

/**
 * Data-change capture for Kysely: insert, update and delete one row by its key, inside a
 * transaction that also reads the row before and after, then record `<type>.created|updated|deleted`
 * with the changed fields. See the package README for what this does not capture.
 */
export function kyselyCapture<DB>(options: KyselyCaptureOptions) {
  const settings = (table: string) => {
    const t = options.tables?.[table] ?? {};
    return { key: t.key ?? "id", type: t.type ?? table, exclude: [...(options.exclude ?? []), ...(t.exclude ?? [])] };
  };

  async function run<R>(
    db: Kysely<DB>,
    table: string,
    verb: "created" | "updated" | "deleted",
    id: string | number | undefined,
    change: (trx: AnyDb, key: string) => Promise<string | number>,
    extras: CaptureExtras,
  ): Promise<CapturedChange<R>> {
    const { key, type, exclude } = settings(table);
    const load = (trx: AnyDb, value: string | number) =>
      trx.selectFrom(table).selectAll().where(key, "=", value).executeTakeFirst() as Promise<Row | undefined>;
    const { before, after, rowId } = await (db as unknown as AnyDb).transaction().execute(async (trx) => {
      const before = id === undefined ? undefined : await load(trx, id);
      if (verb !== "created" && !before) throw new NotFoundError("row_not_found", `${table} has no row with ${key} = ${id}`);
      const rowId = await change(trx, key);
      const after = verb === "deleted" ? undefined : await load(trx, rowId);
      return { before, after, rowId };
    });
    // Recorded once the database has committed: see "Limits" in the README.
    const changes = diffChanges(before, after, { exclude });
    if (changes || verb !== "updated") {
      const event = {
        action: `${type}.${verb}`,
        targets: [{ type, id: String(rowId) }, ...(extras.targets ?? [])],
        ...(changes ? { changes } : {}),
        ...(extras.metadata ? { metadata: extras.metadata } : {}),
      };
      await options.audit.record(event as never);
    }
    return { before: before as R | undefined, after: after as R | undefined, changes };
  }

  return {
    /** Inserts a row and records `<type>.created` with its fields. */
    insert<T extends keyof DB & string>(db: Kysely<DB>, table: T, values: Partial<DB[T]>, extras: CaptureExtras = {}) {
      return run<DB[T]>(
        db,
        table,
        "created",
        undefined,
        async (trx, key) => {
          const row = (await trx
            .insertInto(table as string)
            .values(values as Row)
            .returning(key)
            .executeTakeFirstOrThrow()) as Row;
          return row[key] as string | number;
        },
        extras,
      );
    },
    /** Updates the row with this key and records `<type>.updated` with the changed fields only (nothing if none changed). */
    update<T extends keyof DB & string>(db: Kysely<DB>, table: T, id: string | number, values: Partial<DB[T]>, extras: CaptureExtras = {}) {
      return run<DB[T]>(
        db,
        table,
        "updated",
        id,
        async (trx, key) => {
          await trx
            .updateTable(table as string)
            .set(values as Row)
            .where(key, "=", id)
            .execute();
          return id;
        },
        extras,
      );
    },
    /** Deletes the row with this key and records `<type>.deleted` with the fields it had. */
    delete<T extends keyof DB & string>(db: Kysely<DB>, table: T, id: string | number, extras: CaptureExtras = {}) {
      return run<DB[T]>(
        db,
        table,
        "deleted",
        id,
        async (trx, key) => {
          await trx
            .deleteFrom(table as string)
            .where(key, "=", id)
            .execute();
          return id;
        },
        extras,
      );
    },
  };
}

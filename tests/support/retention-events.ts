/** Event i of the retention scenarios (SQLite and PostgreSQL): the last 100 of 1000 belong to a matter under legal hold. */
export const retentionEvent = (i: number) => ({
  id: `evt-r-${i}`,
  action: "document.updated",
  occurredAt: "2026-11-27T12:00:00.000Z",
  actor: { type: "user", id: i >= 900 ? "u_matter" : `u_${i % 17}` },
  targets: [{ type: "document", id: `doc_${i}` }],
});

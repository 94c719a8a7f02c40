import { InputError } from "@sealtrail/core";

/**
 * Reads a JSON request body within a byte limit. The limit is enforced while streaming, so a
 * client that lies in Content-Length (or sends none) still cannot make us buffer more.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  const mediaType = type.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json" && !mediaType?.endsWith("+json")) {
    throw new InputError("unsupported_media_type", `send the body as application/json (got ${mediaType || "no content type"})`);
  }
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Uint8Array[] = [];
  let length = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError("invalid_encoding", "the body is not valid UTF-8");
  }
  if (text.trim() === "") throw new InputError("invalid_json", 'the body is empty; send a JSON event or { "events": [...] }');
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's message quotes the start of the body ("secret"... is not valid JSON), and bodies carry
    // personal data: keep only the position.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new InputError("invalid_json", `the body is not valid JSON${position === undefined ? "" : ` (at position ${position})`}`);
  }
}

function tooLarge(maxBytes: number): InputError {
  return new InputError("payload_too_large", `the body is larger than the ${maxBytes}-byte limit; split it into smaller batches`);
}

import type { IncomingMessage } from "node:http";
import { InputError } from "@sealtrail/core";
import type { Context } from "hono";

/**
 * Reads a JSON request body within a byte limit. The limit is enforced while streaming, so a
 * client that lies in Content-Length (or sends none) still cannot make us buffer more.
 *
 * Under `sealtrail serve` the body is read from Node's own request stream: going through the
 * fetch `Request` made @hono/node-server build a web ReadableStream per request, about a tenth of
 * a single-event ingest's CPU. And a body that passes the limit there is answered with the 413
 * and the connection closed after it, unread: cancelling the web stream destroyed the socket, so
 * an HTTP client saw ECONNRESET instead of the problem document.
 */
export async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const request = c.req.raw;
  const type = request.headers.get("content-type") ?? "";
  const mediaType = type.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json" && !mediaType?.endsWith("+json")) {
    throw new InputError("unsupported_media_type", `send the body as application/json (got ${mediaType || "no content type"})`);
  }
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const bytes = incoming ? await readIncoming(incoming, maxBytes) : await readStream(request, maxBytes);
  return parseJson(bytes);
}

function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const settle = (outcome: () => void) => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= maxBytes) return void chunks.push(chunk);
      // Not buffered: after the answer, @hono/node-server discards what still comes (for at most
      // 500 ms and 64 MiB) and then closes the connection.
      incoming.pause();
      settle(() => reject(tooLarge(maxBytes)));
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, length)));
    const onError = (error: Error) => settle(() => reject(error));
    const onClose = () => {
      if (!incoming.readableEnded) settle(() => reject(new Error("the client closed the connection before the body ended")));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
    incoming.on("close", onClose);
    if (incoming.readableEnded) onEnd();
  });
}

async function readStream(request: Request, maxBytes: number): Promise<Uint8Array> {
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
  return Buffer.concat(chunks, length);
}

function parseJson(bytes: Uint8Array): unknown {
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

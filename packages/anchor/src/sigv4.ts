import { createHash, createHmac } from "node:crypto";

/**
 * AWS Signature Version 4 for S3 (header form), written out so the anchor needs no AWS SDK.
 * Follows "Authenticating Requests: Using the Authorization Header" of the S3 API reference:
 * canonical request → string to sign → HMAC-SHA256 key chain → Authorization header. S3 differs
 * from other services in that the path is encoded once, not twice.
 */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials (STS) send this as x-amz-security-token. */
  readonly sessionToken?: string;
}

export interface SignRequest {
  readonly method: string;
  readonly url: URL;
  /** Headers to sign, besides host, x-amz-date, x-amz-content-sha256 (and the token), which are added. */
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD". */
  readonly payloadHash: string;
  readonly region: string;
  readonly service?: string;
  readonly credentials: AwsCredentials;
  readonly date: Date;
}

export interface SignedRequest {
  /** Every header to send, Authorization included. */
  readonly headers: Record<string, string>;
  /** Intermediate values, exposed for the published test vectors. */
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** RFC 3986 unreserved characters stay; everything else is %XX with uppercase hex (SigV4 UriEncode). */
export function uriEncode(text: string, encodeSlash: boolean): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (c === "/" && !encodeSlash)) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export function signAwsV4(request: SignRequest): SignedRequest {
  const service = request.service ?? "s3";
  const stamp = amzDate(request.date);
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers.host = request.url.host;
  headers["x-amz-date"] = stamp;
  headers["x-amz-content-sha256"] = request.payloadHash;
  if (request.credentials.sessionToken) headers["x-amz-security-token"] = request.credentials.sessionToken;
  const names = Object.keys(headers).sort();
  // Canonical header values: trimmed, inner runs of spaces folded to one.
  const canonicalHeaders = names.map((name) => `${name}:${(headers[name] as string).trim().replace(/ +/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const query = [...request.url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k, true), uriEncode(v, true)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const path = uriEncode(decodeURIComponent(request.url.pathname), false) || "/";
  const canonicalRequest = [request.method, path, query, canonicalHeaders, signedHeaders, request.payloadHash].join("\n");
  const scope = `${day}/${request.region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, sha256Hex(canonicalRequest)].join("\n");
  let key: Buffer = createHmac("sha256", `AWS4${request.credentials.secretAccessKey}`).update(day).digest();
  for (const part of [request.region, service, "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  const authorization = `AWS4-HMAC-SHA256 Credential=${request.credentials.accessKeyId}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
  // Host is set by fetch from the URL; sending it again is refused by undici.
  const { host: _, ...send } = headers;
  return { headers: { ...send, authorization }, canonicalRequest, stringToSign, signature };
}

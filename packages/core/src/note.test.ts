import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { fromBase64, toBase64, utf8 } from "./bytes.js";
import { ConfigError, VerificationError } from "./errors.js";
import {
  computeKeyId,
  createEd25519Signer,
  encodeVerifierKey,
  generateSignerKey,
  type NoteSigner,
  type NoteVerifier,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from "./note.js";
import { flipBit, goVectors } from "./test-tree.js";

const vectors = goVectors();
const [logKey, witnessKey] = vectors.keys as [(typeof vectors.keys)[0], (typeof vectors.keys)[0]];
const goNote = (description: string) => {
  const note = vectors.notes.find((n) => n.description === description);
  if (!note) throw new Error(`no Go note "${description}"`);
  return note;
};
const checkpointNote = goNote("checkpoint signed by the log key");
const cosignedNote = goNote("checkpoint cosigned by a witness");
const logVerifier = parseVerifierKey(logKey.verifierKey);
const witnessVerifier = parseVerifierKey(witnessKey.verifierKey);

const isVerificationError = (code: string) => (error: unknown) => {
  assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
  assert.equal(error.code, code);
  return true;
};
const isConfigError = (code: string) => (error: unknown) => {
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  assert.equal(error.code, code);
  return true;
};

/** Rewrites the base64 of the signature line by `name` in a signed note. */
function editSignature(note: string, name: string, edit: (bytes: Uint8Array) => Uint8Array): string {
  const prefix = `\u2014 ${name} `;
  return note
    .split("\n")
    .map((line) => (line.startsWith(prefix) ? prefix + toBase64(edit(fromBase64(line.slice(prefix.length)))) : line))
    .join("\n");
}

describe("signed notes: Go sumdb/note cross-check", () => {
  it("parses Go's private key string and derives Go's verifier key", async () => {
    for (const key of vectors.keys) {
      const signer = await parseSignerKey(key.signerKey);
      assert.equal(signer.name, key.name);
      assert.equal(signer.verifierKey, key.verifierKey);
      assert.equal(signer.keyId.toString(16).padStart(8, "0"), key.verifierKey.split("+")[1]);
    }
  });

  it("computes Go's key IDs and verifier key strings from the public key", () => {
    for (const key of vectors.keys) {
      const [name, idHex, keyBase64] = splitVerifierKey(key.verifierKey);
      const publicKey = fromBase64(keyBase64).slice(1);
      assert.equal(computeKeyId(name, publicKey), Number.parseInt(idHex, 16));
      assert.equal(encodeVerifierKey(name, publicKey), key.verifierKey);
      assert.equal(parseVerifierKey(key.verifierKey).keyId, Number.parseInt(idHex, 16));
    }
  });

  it("opens every Go-signed note with the keys Go printed", async () => {
    assert.ok(vectors.notes.length >= 5);
    for (const v of vectors.notes) {
      const opened = await openNote(v.signed, [logVerifier, witnessVerifier]);
      assert.equal(opened.text, v.text, v.description);
      assert.deepEqual(
        opened.verifiedBy.map((s) => s.name),
        v.signedBy,
        v.description,
      );
    }
  });

  it("signs byte for byte what Go signs (Ed25519 is deterministic)", async () => {
    const signers = new Map<string, NoteSigner>();
    for (const key of vectors.keys) signers.set(key.name, await parseSignerKey(key.signerKey));
    for (const v of vectors.notes) {
      const ours = await signNote(
        v.text,
        v.signedBy.map((name) => signers.get(name) as NoteSigner),
      );
      assert.equal(ours, v.signed, v.description);
    }
  });

  const gopath = process.env.GOPATH ?? "/usr/share/gocode";
  const hasGo =
    existsSync(join(gopath, "src/golang.org/x/mod/sumdb/note/note.go")) && spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
  it("is verified by Go's note.Open when signed with a freshly generated key", {
    skip: hasGo ? false : "Go or golang-golang-x-mod-dev not installed",
  }, async () => {
    const signer = await parseSignerKey(await generateSignerKey("fresh.example"));
    const note = await signNote("fresh.example/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", [signer]);
    const tool = fileURLToPath(new URL("../../../tools/go-crosscheck/verify-note", import.meta.url));
    const run = (verifierKey: string, input: string) =>
      spawnSync("go", ["run", ".", verifierKey], {
        cwd: tool,
        input,
        encoding: "utf8",
        env: { ...process.env, GOPATH: gopath, GO111MODULE: "off", GOFLAGS: "" },
        timeout: 120_000,
      });
    const ok = run(signer.verifierKey, note);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "fresh.example\n");
    const tampered = run(signer.verifierKey, note.replace("\n3\n", "\n4\n"));
    assert.notEqual(tampered.status, 0);
  });
});

function splitVerifierKey(text: string): [string, string, string] {
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  return [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
}

describe("signed notes: keys", () => {
  it("generates signer keys in Go's PRIVATE+KEY format that sign verifiable notes", async () => {
    const text = await generateSignerKey("log.example");
    assert.match(text, /^PRIVATE\+KEY\+log\.example\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
    const signer = await parseSignerKey(text);
    assert.match(signer.verifierKey, /^log\.example\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
    const note = await signNote("hello\n", [signer]);
    const opened = await openNote(note, [parseVerifierKey(signer.verifierKey)]);
    assert.equal(opened.text, "hello\n");
    assert.notEqual(await generateSignerKey("log.example"), text);
  });

  it("refuses verifier keys whose key ID does not match", () => {
    const [name, idHex, key] = splitVerifierKey(logKey.verifierKey);
    const otherId = ((Number.parseInt(idHex, 16) + 1) >>> 0).toString(16).padStart(8, "0");
    assert.throws(() => parseVerifierKey(`${name}+${otherId}+${key}`), isConfigError("invalid_verifier_key"));
    // Same key under another name: the ID commits to the name.
    assert.throws(() => parseVerifierKey(`other.example+${idHex}+${key}`), isConfigError("invalid_verifier_key"));
  });

  it("refuses malformed verifier keys", () => {
    const [name, idHex, key] = splitVerifierKey(logKey.verifierKey);
    const raw = fromBase64(key);
    const bad = [
      `${name}+${idHex.toUpperCase()}+${key}`,
      `${name}+${idHex.slice(1)}+${key}`,
      `${name}+0${idHex}+${key}`,
      `${name}+${idHex}`,
      `${name}+${idHex}+`,
      `${name}+${idHex}+${key.slice(0, -1)}`,
      `${name}+${idHex}+${key} x`,
      `${name}+${idHex}+${key.replaceAll("+", "-")}`,
      `${name}+${idHex}+${toBase64(raw.slice(1))}`, // no algorithm byte
      `${name}+${idHex}+${toBase64(Uint8Array.of(2, ...raw.slice(1)))}`, // unknown algorithm
      `${name}+${idHex}+${toBase64(Uint8Array.of(...raw, 0))}`,
      "",
    ];
    for (const text of bad) assert.throws(() => parseVerifierKey(text), isConfigError("invalid_verifier_key"), text);
    for (const text of [`+${idHex}+${key}`, `a b+${idHex}+${key}`, `a\tb+${idHex}+${key}`]) {
      assert.throws(() => parseVerifierKey(text), isConfigError("invalid_key_name"), text);
    }
  });

  it("refuses malformed signer keys", async () => {
    const [, , name, idHex, key] = logKey.signerKey.split("+") as [string, string, string, string, string];
    const rest = logKey.signerKey.split("+").slice(4).join("+");
    const otherId = ((Number.parseInt(idHex, 16) ^ 1) >>> 0).toString(16).padStart(8, "0");
    const bad = [
      `PRIVATE+KEY+${name}+${otherId}+${rest}`,
      `PUBLIC+KEY+${name}+${idHex}+${rest}`,
      `PRIVATE+KEY+${name}+${idHex}`,
      `PRIVATE+KEY+${name}+${idHex}+${rest.slice(0, -1)}`,
      `PRIVATE+KEY+${name}+${idHex}+${toBase64(fromBase64(rest).slice(1))}`,
      `PRIVATE+KEY+${name}+${idHex}+${toBase64(Uint8Array.of(2, ...fromBase64(rest).slice(1)))}`,
      logKey.verifierKey,
    ];
    assert.ok(key.length > 0);
    for (const text of bad) await assert.rejects(parseSignerKey(text), isConfigError("invalid_signing_key"), text);
  });

  it("refuses seeds that are not 32 bytes and unusable key names", async () => {
    await assert.rejects(createEd25519Signer("a", new Uint8Array(31)), isConfigError("invalid_signing_key"));
    await assert.rejects(createEd25519Signer("a", new Uint8Array(33)), isConfigError("invalid_signing_key"));
    for (const name of ["", "a b", "a+b", "a\nb", "a\u00a0b"]) {
      await assert.rejects(createEd25519Signer(name, new Uint8Array(32)), isConfigError("invalid_key_name"), JSON.stringify(name));
    }
  });
});

describe("signed notes: verification refuses", () => {
  const signed = checkpointNote.signed;

  it("a note checked against a different key under the same name", async () => {
    const stranger = parseVerifierKey((await parseSignerKey(await generateSignerKey(logKey.name))).verifierKey);
    await assert.rejects(openNote(signed, [stranger]), isVerificationError("unknown_signer"));
  });

  it("a note whose signature line names another key", async () => {
    const renamed = signed.replace(`\u2014 ${logKey.name} `, "\u2014 other.example ");
    await assert.rejects(openNote(renamed, [logVerifier]), isVerificationError("unknown_signer"));
  });

  it("a bad signature from a known key, whatever bit is flipped", async () => {
    for (const bit of [32, 33, 100, 287, 400, 543]) {
      const flipped = editSignature(signed, logKey.name, (bytes) => flipBit(bytes, bit));
      await assert.rejects(openNote(flipped, [logVerifier]), isVerificationError("invalid_signature"), `bit ${bit}`);
    }
  });

  it("a signature whose key ID bits are flipped, as from an unknown key", async () => {
    const flipped = editSignature(signed, logKey.name, (bytes) => flipBit(bytes, 3));
    await assert.rejects(openNote(flipped, [logVerifier]), isVerificationError("unknown_signer"));
  });

  it("a signature that is too short or too long", async () => {
    const short = editSignature(signed, logKey.name, (bytes) => bytes.slice(0, 67));
    await assert.rejects(openNote(short, [logVerifier]), isVerificationError("invalid_signature"));
    const long = editSignature(signed, logKey.name, (bytes) => Uint8Array.of(...bytes, 0));
    await assert.rejects(openNote(long, [logVerifier]), isVerificationError("invalid_signature"));
    const tiny = editSignature(signed, logKey.name, (bytes) => bytes.slice(0, 4));
    await assert.rejects(openNote(tiny, [logVerifier]), isVerificationError("malformed_note"));
  });

  it("a modified body", async () => {
    for (const modified of [
      signed.replace("\n70000\n", "\n70001\n"),
      signed.replace("sealtrail.example/crosscheck", "sealtrail.example/crosscheck2"),
      `x${signed}`,
      signed.replace("\n\n", "\nextra line\n\n"),
    ]) {
      await assert.rejects(openNote(modified, [logVerifier]), isVerificationError("invalid_signature"));
    }
  });

  it("a note without its trailing newline", async () => {
    await assert.rejects(openNote(signed.slice(0, -1), [logVerifier]), isVerificationError("malformed_note"));
  });

  it("a note with an extra blank line anywhere", async () => {
    const lines = signed.split("\n");
    for (let i = 1; i < lines.length; i++) {
      const withBlank = [...lines.slice(0, i), "", ...lines.slice(i)].join("\n");
      await assert.rejects(openNote(withBlank, [logVerifier]), VerificationError, `blank line before line ${i}`);
    }
    await assert.rejects(openNote(`${signed}\n`, [logVerifier]), isVerificationError("malformed_note"));
    await assert.rejects(openNote(`\n${signed}`, [logVerifier]), VerificationError);
  });

  it("a note with no signature block or an empty one", async () => {
    await assert.rejects(openNote(checkpointNote.text, [logVerifier]), isVerificationError("malformed_note"));
    await assert.rejects(openNote(`${checkpointNote.text}\n`, [logVerifier]), isVerificationError("malformed_note"));
  });

  it("a note signed by nobody the caller trusts", async () => {
    await assert.rejects(openNote(signed, []), isVerificationError("unknown_signer"));
    await assert.rejects(openNote(signed, [witnessVerifier]), isVerificationError("unknown_signer"));
  });

  it("malformed signature lines", async () => {
    const line = signed.split("\n").find((l) => l.startsWith("\u2014 ")) as string;
    const sig = line.slice(line.lastIndexOf(" ") + 1);
    const body = signed.slice(0, signed.indexOf(line));
    const bad = [
      `- ${logKey.name} ${sig}`, // ASCII hyphen instead of the em dash
      `\u2014${logKey.name} ${sig}`,
      `\u2014  ${logKey.name} ${sig}`,
      `\u2014 ${logKey.name}  ${sig}`,
      `\u2014 ${logKey.name}+x ${sig}`,
      `\u2014 ${logKey.name}`,
      `\u2014  ${sig}`,
      `\u2014 ${logKey.name} ${sig} `,
      `\u2014 ${logKey.name} ${sig.slice(0, -2)}`,
      `\u2014 ${logKey.name} ${sig.replaceAll("+", "-").replaceAll("/", "_")}x`,
    ];
    for (const l of bad) {
      await assert.rejects(openNote(`${body}${l}\n`, [logVerifier]), isVerificationError("malformed_note"), l);
    }
  });

  it("a signature in non-canonical base64", async () => {
    const line = signed.split("\n").find((l) => l.startsWith("\u2014 ")) as string;
    const sig = line.slice(line.lastIndexOf(" ") + 1);
    assert.ok(sig.endsWith("=") && !sig.endsWith("=="), "68 bytes encode with one padding character");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const last = alphabet.indexOf(sig.at(-2) as string);
    const nonCanonical = `${sig.slice(0, -2)}${alphabet[last | 1]}=`;
    assert.deepEqual(Buffer.from(nonCanonical, "base64"), Buffer.from(sig, "base64"), "lenient decoders read the same bytes");
    await assert.rejects(openNote(signed.replace(sig, nonCanonical), [logVerifier]), isVerificationError("malformed_note"));
  });

  it("more than 100 signature lines", async () => {
    const line = signed.split("\n").find((l) => l.startsWith("\u2014 ")) as string;
    const many = `${checkpointNote.text}\n${`${line}\n`.repeat(101)}`;
    await assert.rejects(openNote(many, [logVerifier]), isVerificationError("malformed_note"));
    const hundred = `${checkpointNote.text}\n${`${line}\n`.repeat(100)}`;
    assert.equal((await openNote(hundred, [logVerifier])).verifiedBy.length, 100);
  });

  it("control characters, CRLF line endings and invalid UTF-8", async () => {
    await assert.rejects(openNote(signed.replaceAll("\n", "\r\n"), [logVerifier]), VerificationError);
    await assert.rejects(openNote(signed.replace("sealtrail", "seal\ttrail"), [logVerifier]), isVerificationError("malformed_note"));
    await assert.rejects(openNote(signed.replace("sealtrail", "seal\u0000trail"), [logVerifier]), isVerificationError("malformed_note"));
    const bytes = utf8(signed);
    bytes[3] = 0xff;
    await assert.rejects(openNote(bytes, [logVerifier]), isVerificationError("malformed_note"));
  });
});

describe("signed notes: cosignatures", () => {
  const signed = cosignedNote.signed;

  it("ignores signatures from unknown keys", async () => {
    assert.deepEqual(
      (await openNote(signed, [logVerifier])).verifiedBy.map((s) => s.name),
      [logKey.name],
    );
    assert.deepEqual(
      (await openNote(signed, [witnessVerifier])).verifiedBy.map((s) => s.name),
      [witnessKey.name],
    );
    const brokenWitness = editSignature(signed, witnessKey.name, (bytes) => flipBit(bytes, 100));
    assert.deepEqual(
      (await openNote(brokenWitness, [logVerifier])).verifiedBy.map((s) => s.name),
      [logKey.name],
    );
  });

  it("rejects a bad signature from a known key even when another known key verified", async () => {
    const brokenWitness = editSignature(signed, witnessKey.name, (bytes) => flipBit(bytes, 100));
    await assert.rejects(openNote(brokenWitness, [logVerifier, witnessVerifier]), isVerificationError("invalid_signature"));
    const brokenLog = editSignature(signed, logKey.name, (bytes) => flipBit(bytes, 100));
    await assert.rejects(openNote(brokenLog, [logVerifier, witnessVerifier]), isVerificationError("invalid_signature"));
  });

  it("asks a verifier only about signatures with its name and key ID", async () => {
    const asked: string[] = [];
    const spy: NoteVerifier = {
      name: logVerifier.name,
      keyId: logVerifier.keyId,
      verify: async (message, signature) => {
        asked.push(new TextDecoder().decode(message));
        return logVerifier.verify(message, signature);
      },
    };
    await openNote(signed, [spy]);
    assert.deepEqual(asked, [cosignedNote.text]);
  });

  it("rejects a verifier that claims a known name and key ID but holds another key", async () => {
    const impostor: NoteVerifier = { name: logVerifier.name, keyId: logVerifier.keyId, verify: witnessVerifier.verify };
    await assert.rejects(openNote(signed, [impostor]), isVerificationError("invalid_signature"));
  });
});

describe("signed notes: signing", () => {
  it("accepts bytes as well as text", async () => {
    const opened = await openNote(utf8(checkpointNote.signed), [logVerifier]);
    assert.equal(opened.text, checkpointNote.text);
  });

  it("parses text and signatures without verifying them", () => {
    const parsed = parseNote(cosignedNote.signed);
    assert.equal(parsed.text, cosignedNote.text);
    assert.deepEqual(
      parsed.signatures.map((s) => [s.name, s.keyId, s.signature.length]),
      [
        [logKey.name, logVerifier.keyId, 64],
        [witnessKey.name, witnessVerifier.keyId, 64],
      ],
    );
  });

  it("refuses to sign text that could not be opened again", async () => {
    const signer = await parseSignerKey(logKey.signerKey);
    for (const text of ["", "no newline", "a\n\nb\n", "a\n\n", "tab\there\n", "cr\r\n", "del\u007f\n"]) {
      await assert.rejects(signNote(text, [signer]), isVerificationError("malformed_note"), JSON.stringify(text));
    }
  });

  it("signs with several keys, each on its own line, in order", async () => {
    const log = await parseSignerKey(logKey.signerKey);
    const witness = await parseSignerKey(witnessKey.signerKey);
    const note = await signNote("a\n", [log, witness]);
    const lines = note.split("\n");
    assert.equal(lines[0], "a");
    assert.equal(lines[1], "");
    assert.ok(lines[2]?.startsWith(`\u2014 ${logKey.name} `));
    assert.ok(lines[3]?.startsWith(`\u2014 ${witnessKey.name} `));
    assert.equal(lines[4], "");
    assert.equal(lines.length, 5);
  });
});

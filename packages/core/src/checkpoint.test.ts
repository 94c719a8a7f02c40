import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromHex, toBase64, utf8 } from "./bytes.js";
import { formatCheckpoint, openCheckpoint, parseCheckpointText } from "./checkpoint.js";
import { VerificationError } from "./errors.js";
import { type NoteSigner, parseSignerKey, parseVerifierKey, signNote } from "./note.js";
import { goVectors } from "./test-tree.js";

const vectors = goVectors();
const [logKey, witnessKey] = vectors.keys as [(typeof vectors.keys)[0], (typeof vectors.keys)[0]];
const logVerifier = parseVerifierKey(logKey.verifierKey);
const witnessVerifier = parseVerifierKey(witnessKey.verifierKey);
const goNote = (description: string) => vectors.notes.find((n) => n.description === description) as (typeof vectors.notes)[0];
const goRoot = (size: number) => fromHex(vectors.roots.find((r) => r.size === size)?.root as string);
const ORIGIN = "sealtrail.example/crosscheck";

const isVerificationError = (code: string) => (error: unknown) => {
  assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
  assert.equal(error.code, code);
  return true;
};

let signer: NoteSigner | undefined;
async function signWithLogKey(text: string): Promise<string> {
  signer ??= await parseSignerKey(logKey.signerKey);
  return signNote(text, [signer]);
}

describe("checkpoints (C2SP tlog-checkpoint)", () => {
  it("opens Go-signed checkpoints and reads size and root hash", async () => {
    const checkpoint = await openCheckpoint(goNote("checkpoint signed by the log key").signed, {
      verifiers: [logVerifier],
      origin: ORIGIN,
    });
    assert.equal(checkpoint.origin, ORIGIN);
    assert.equal(checkpoint.treeSize, 70000);
    assert.deepEqual(checkpoint.rootHash, goRoot(70000));
    assert.deepEqual(checkpoint.extensions, []);
    assert.equal(checkpoint.note, goNote("checkpoint signed by the log key").signed);
  });

  it("keeps extension lines", async () => {
    const checkpoint = await openCheckpoint(goNote("checkpoint with an extension line").signed, {
      verifiers: [logVerifier],
      origin: ORIGIN,
    });
    assert.equal(checkpoint.treeSize, 1);
    assert.deepEqual(checkpoint.rootHash, goRoot(1));
    assert.deepEqual(checkpoint.extensions, ["extension line"]);
  });

  it("opens Go's go.sum database tree notes under their origin", async () => {
    const checkpoint = await openCheckpoint(goNote("go.sum database tree note").signed, {
      verifiers: [logVerifier],
      origin: "go.sum database tree",
    });
    assert.equal(checkpoint.treeSize, 1000);
    assert.deepEqual(checkpoint.rootHash, goRoot(1000));
  });

  it("opens a cosigned checkpoint with either key, and bytes as well as text", async () => {
    const note = goNote("checkpoint cosigned by a witness").signed;
    for (const verifiers of [[logVerifier], [witnessVerifier], [logVerifier, witnessVerifier]]) {
      assert.equal((await openCheckpoint(note, { verifiers, origin: ORIGIN })).treeSize, 70000);
    }
    const fromBytes = await openCheckpoint(utf8(note), { verifiers: [logVerifier], origin: ORIGIN });
    assert.equal(fromBytes.note, note);
  });

  it("refuses a checkpoint for another origin", async () => {
    const note = goNote("checkpoint signed by the log key").signed;
    for (const origin of ["sealtrail.example/other", "sealtrail.example/crosscheck/", "sealtrail.example/CROSSCHECK", ""]) {
      await assert.rejects(openCheckpoint(note, { verifiers: [logVerifier], origin }), isVerificationError("wrong_origin"), origin);
    }
  });

  it("refuses a checkpoint signed only by an untrusted key", async () => {
    await assert.rejects(
      openCheckpoint(goNote("checkpoint signed by the log key").signed, { verifiers: [witnessVerifier], origin: ORIGIN }),
      isVerificationError("unknown_signer"),
    );
  });

  it("refuses a validly signed body that is not a checkpoint", async () => {
    const root = toBase64(goRoot(5));
    const bad = [
      `${ORIGIN}\n05\n${root}\n`, // leading zero
      `${ORIGIN}\n00\n${root}\n`,
      `${ORIGIN}\n+5\n${root}\n`,
      `${ORIGIN}\n-1\n${root}\n`,
      `${ORIGIN}\n5.0\n${root}\n`,
      `${ORIGIN}\n1e3\n${root}\n`,
      `${ORIGIN}\n 5\n${root}\n`,
      `${ORIGIN}\n0x5\n${root}\n`,
      `${ORIGIN}\n\u0665\n${root}\n`, // Arabic-Indic digit five
      `${ORIGIN}\n9007199254740992\n${root}\n`,
      `${ORIGIN}\n5\n${root.slice(0, -2)}x=\n`, // non-canonical base64
      `${ORIGIN}\n5\n${root.replace("=", "")}\n`,
      `${ORIGIN}\n5\n${toBase64(goRoot(5).slice(1))}\n`,
      `${ORIGIN}\n5\n${toBase64(new Uint8Array(33))}\n`,
      `${ORIGIN}\n5\n`,
      `${ORIGIN}\n`,
    ];
    for (const text of bad) {
      const note = await signWithLogKey(text);
      await assert.rejects(
        openCheckpoint(note, { verifiers: [logVerifier], origin: ORIGIN }),
        isVerificationError("malformed_checkpoint"),
        text,
      );
    }
  });

  it("refuses non-canonical base64 in the root hash even though the bytes decode the same", () => {
    const root = toBase64(goRoot(5));
    assert.ok(root.endsWith("=") && !root.endsWith("=="));
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const nonCanonical = `${root.slice(0, -2)}${alphabet[alphabet.indexOf(root.at(-2) as string) | 1]}=`;
    assert.notEqual(nonCanonical, root);
    assert.deepEqual(Buffer.from(nonCanonical, "base64"), Buffer.from(goRoot(5)));
    assert.throws(() => parseCheckpointText(`${ORIGIN}\n5\n${nonCanonical}\n`), isVerificationError("malformed_checkpoint"));
  });

  it("formats and parses the three-line body", () => {
    const body = formatCheckpoint({ origin: ORIGIN, treeSize: 70000, rootHash: goRoot(70000) });
    assert.equal(body, goNote("checkpoint signed by the log key").text);
    assert.deepEqual(parseCheckpointText(body), { origin: ORIGIN, treeSize: 70000, rootHash: goRoot(70000), extensions: [] });
    const withExtensions = formatCheckpoint({ origin: ORIGIN, treeSize: 0, rootHash: new Uint8Array(32), extensions: ["a", "b c"] });
    assert.equal(withExtensions, `${ORIGIN}\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\na\nb c\n`);
    assert.deepEqual(parseCheckpointText(withExtensions).extensions, ["a", "b c"]);
  });

  it("refuses bodies without a final newline, with an empty origin or an empty extension line", () => {
    const root = toBase64(goRoot(5));
    for (const text of [`${ORIGIN}\n5\n${root}`, `\n5\n${root}\n`, `${ORIGIN}\n5\n${root}\n\n`, `${ORIGIN}\n5\n${root}\next\n\n`]) {
      assert.throws(() => parseCheckpointText(text), isVerificationError("malformed_checkpoint"), JSON.stringify(text));
    }
  });

  it("refuses to format an origin that is empty or spans lines", () => {
    for (const origin of ["", "a\nb", "a\r"]) {
      assert.throws(
        () => formatCheckpoint({ origin, treeSize: 1, rootHash: new Uint8Array(32) }),
        isVerificationError("malformed_checkpoint"),
        JSON.stringify(origin),
      );
    }
  });
});

// Command audit is a second independent tlog-tiles client: it audits one log of a running
// Sealtrail server with Go's reference code (golang.org/x/mod/sumdb/note and sumdb/tlog), so
// the server's checkpoints, hash tiles, entry bundles and JSON proofs are checked by code that we
// did not write. Only the paths are mapped: Go's sumdb layout (tile/8/L/N, tile/8/data/N) to
// C2SP tlog-tiles (tile/L/N, tile/entries/N); every hash, proof and signature check is Go's.
//
// Usage: audit -url URL -log NAME -key KEY [-verifier-key VKEY] [-old SIZE:BASE64ROOT] [-samples N]
// Exits 0 when everything checks out, 1 with a message on the first mismatch, 2 on bad usage.
// See README.md.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is fixed by C2SP tlog-tiles: 256 hashes per full tile.
const tileHeight = 8

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "audit: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

type client struct {
	base string
	key  string
	http *http.Client
}

func (c *client) get(path string) (int, []byte, error) {
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func (c *client) getOK(path string) []byte {
	status, body, err := c.get(path)
	if err != nil {
		fatalf("GET %s: %v", path, err)
	}
	if status != 200 {
		fatalf("GET %s answered %d: %.200s", path, status, body)
	}
	return body
}

func (c *client) getJSON(path string, v interface{}) {
	if err := json.Unmarshal(c.getOK(path), v); err != nil {
		fatalf("GET %s: bad JSON: %v", path, err)
	}
}

// tlogTilesPath maps Go's sumdb tile path to the C2SP tlog-tiles one: the height element goes
// (tlog-tiles fixes it at 8) and the data level is called "entries".
func tlogTilesPath(t tlog.Tile) string {
	if t.H != tileHeight {
		fatalf("tile height %d is not %d", t.H, tileHeight)
	}
	rest := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
	if strings.HasPrefix(rest, "data/") {
		rest = "entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

// tileReader fetches hash tiles over HTTP for tlog.TileHashReader, which authenticates every
// tile against its parent and the checkpoint's root before returning any hash from it.
type tileReader struct {
	c       *client
	logPath string
	mu      sync.Mutex
	cache   map[tlog.Tile][]byte
	fetched int
}

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	errs := make([]error, len(tiles))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, t := range tiles {
		r.mu.Lock()
		data, ok := r.cache[t]
		r.mu.Unlock()
		if ok {
			out[i] = data
			continue
		}
		wg.Add(1)
		go func(i int, t tlog.Tile) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			path := r.logPath + "/" + tlogTilesPath(t)
			status, body, err := r.c.get(path)
			if err == nil && status != 200 {
				err = fmt.Errorf("GET %s answered %d", path, status)
			}
			if err == nil && len(body) != t.W*tlog.HashSize {
				err = fmt.Errorf("GET %s: %d bytes, want %d", path, len(body), t.W*tlog.HashSize)
			}
			out[i], errs[i] = body, err
		}(i, t)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	for i, t := range tiles {
		if _, ok := r.cache[t]; !ok {
			r.cache[t] = out[i]
			r.fetched++
		}
	}
	r.mu.Unlock()
	return out, nil
}

// SaveTiles is a no-op: nothing is persisted, every run starts from the checkpoint.
func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// parseCheckpoint reads the C2SP tlog-checkpoint body (origin, size, base64 root). tlog.ParseTree
// is not used because it expects the Go checksum database's origin line.
func parseCheckpoint(text string, origin string) tlog.Tree {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if !strings.HasSuffix(text, "\n") || len(lines) < 3 {
		fatalf("checkpoint body is not origin, size and root hash lines: %q", text)
	}
	if lines[0] != origin {
		fatalf("checkpoint origin %q is not the log's origin %q", lines[0], origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fatalf("checkpoint tree size %q is not a canonical decimal", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil || base64.StdEncoding.EncodeToString(root[:]) != lines[2] {
		fatalf("checkpoint root hash %q is not canonical base64 of 32 bytes", lines[2])
	}
	return tlog.Tree{N: size, Hash: root}
}

func decodeHashes(what string, in []string) []tlog.Hash {
	out := make([]tlog.Hash, len(in))
	for i, s := range in {
		h, err := tlog.ParseHash(s)
		if err != nil {
			fatalf("%s: hash %d: %v", what, i, err)
		}
		out[i] = h
	}
	return out
}

func sameHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func main() {
	baseURL := flag.String("url", "", "server base URL, e.g. http://127.0.0.1:8080")
	logName := flag.String("log", "", "log name")
	key := flag.String("key", "", "API key sent as Authorization: Bearer (entry bundles need one)")
	pinned := flag.String("verifier-key", "", "pinned verifier key (default: the one the server lists for the log)")
	old := flag.String("old", "", "an earlier checkpoint as SIZE:BASE64ROOT, proven to be a prefix of the current one")
	samples := flag.Int("samples", 16, "inclusion and consistency proofs to sample from the JSON API")
	flag.Parse()
	if *baseURL == "" || *logName == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: audit -url URL -log NAME -key KEY [-verifier-key VKEY] [-old SIZE:BASE64ROOT] [-samples N]")
		os.Exit(2)
	}
	c := &client{base: strings.TrimRight(*baseURL, "/"), key: *key, http: &http.Client{Timeout: 60 * time.Second}}
	logPath := "/logs/" + url.PathEscape(*logName)
	apiPath := "/v1/logs/" + url.PathEscape(*logName)

	// The checkpoint, verified with sumdb/note.
	var info struct {
		Name        string `json:"name"`
		Origin      string `json:"origin"`
		VerifierKey string `json:"verifierKey"`
	}
	c.getJSON(apiPath, &info)
	vkey := info.VerifierKey
	if *pinned != "" {
		vkey = *pinned
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fatalf("verifier key %q: %v", vkey, err)
	}
	msg := c.getOK(logPath + "/checkpoint")
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fatalf("checkpoint does not verify with %s: %v", verifier.Name(), err)
	}
	tree := parseCheckpoint(n.Text, info.Origin)
	if tree.N == 0 {
		fmt.Printf("ok %s: empty tree, nothing to audit\n", info.Origin)
		return
	}

	tr := &tileReader{c: c, logPath: logPath, cache: map[tlog.Tile][]byte{}}
	hr := tlog.TileHashReader(tree, tr)

	// The tiles rebuild the root.
	th, err := tlog.TreeHash(tree.N, hr)
	if err != nil {
		fatalf("tree hash from tiles: %v", err)
	}
	if th != tree.Hash {
		fatalf("tiles hash to %v, checkpoint says %v", th, tree.Hash)
	}

	// Every tile of every level, full and partial, authenticated by TileHashReader.
	tiles := 0
	for level := 0; tree.N>>(uint(level)*tileHeight) > 0; level++ {
		count := tree.N >> (uint(level) * tileHeight)
		for idx := int64(0); idx<<tileHeight < count; idx++ {
			w := count - idx<<tileHeight
			if w > 1<<tileHeight {
				w = 1 << tileHeight
			}
			t := tlog.Tile{H: tileHeight, L: level, N: idx, W: int(w)}
			data, err := tlog.ReadTileData(t, hr)
			if err != nil {
				fatalf("tile %s: %v", tlogTilesPath(t), err)
			}
			if served, ok := tr.cache[t]; ok && !bytes.Equal(served, data) {
				fatalf("tile %s: served bytes differ from the authenticated hashes", tlogTilesPath(t))
			}
			tiles++

			// Entry bundles: each entry's RecordHash is the authenticated level-0 hash.
			if level != 0 {
				continue
			}
			dataTile := tlog.Tile{H: tileHeight, L: -1, N: idx, W: int(w)}
			bundle := c.getOK(logPath + "/" + tlogTilesPath(dataTile))
			for i := 0; i < int(w); i++ {
				if len(bundle) < 2 {
					fatalf("bundle %s: truncated before entry %d", tlogTilesPath(dataTile), i)
				}
				size := int(binary.BigEndian.Uint16(bundle))
				if len(bundle) < 2+size {
					fatalf("bundle %s: entry %d claims %d bytes, %d left", tlogTilesPath(dataTile), i, size, len(bundle)-2)
				}
				got := tlog.RecordHash(bundle[2 : 2+size])
				if !bytes.Equal(got[:], data[i*tlog.HashSize:(i+1)*tlog.HashSize]) {
					fatalf("entry %d does not hash to its level-0 hash", idx<<tileHeight+int64(i))
				}
				bundle = bundle[2+size:]
			}
			if len(bundle) != 0 {
				fatalf("bundle %s: %d bytes after its %d entries", tlogTilesPath(dataTile), len(bundle), w)
			}
		}
	}

	rng := rand.New(rand.NewSource(tree.N))

	// Inclusion proofs: the server's must equal ProveRecord's and pass CheckRecord.
	indexes := []int64{0, tree.N - 1, tree.N / 2}
	for len(indexes) < *samples {
		indexes = append(indexes, rng.Int63n(tree.N))
	}
	for _, i := range indexes {
		var proof struct {
			Index    int64    `json:"index"`
			TreeSize int64    `json:"treeSize"`
			LeafHash string   `json:"leafHash"`
			RootHash string   `json:"rootHash"`
			Hashes   []string `json:"hashes"`
		}
		c.getJSON(fmt.Sprintf("%s/proofs/inclusion?index=%d&treeSize=%d", apiPath, i, tree.N), &proof)
		what := fmt.Sprintf("inclusion of %d in %d", i, tree.N)
		if proof.Index != i || proof.TreeSize != tree.N {
			fatalf("%s: answered for %d in %d", what, proof.Index, proof.TreeSize)
		}
		leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		if err != nil {
			fatalf("%s: leaf hash: %v", what, err)
		}
		if h, err := tlog.ParseHash(proof.LeafHash); err != nil || h != leaf[0] {
			fatalf("%s: leafHash %s is not the tiles' %v", what, proof.LeafHash, leaf[0])
		}
		if h, err := tlog.ParseHash(proof.RootHash); err != nil || h != tree.Hash {
			fatalf("%s: rootHash %s is not the checkpoint's", what, proof.RootHash)
		}
		served := decodeHashes(what, proof.Hashes)
		if err := tlog.CheckRecord(served, tree.N, tree.Hash, i, leaf[0]); err != nil {
			fatalf("%s: CheckRecord: %v", what, err)
		}
		want, err := tlog.ProveRecord(tree.N, i, hr)
		if err != nil {
			fatalf("%s: ProveRecord: %v", what, err)
		}
		if !sameHashes(served, want) {
			fatalf("%s: differs from ProveRecord", what)
		}
	}

	// Consistency proofs: the server's must equal ProveTree's and pass CheckTree.
	checkTree := func(m int64, oldHash tlog.Hash) {
		var proof struct {
			From   int64    `json:"from"`
			To     int64    `json:"to"`
			Hashes []string `json:"hashes"`
		}
		c.getJSON(fmt.Sprintf("%s/proofs/consistency?from=%d&to=%d", apiPath, m, tree.N), &proof)
		what := fmt.Sprintf("consistency from %d to %d", m, tree.N)
		if proof.From != m || proof.To != tree.N {
			fatalf("%s: answered for %d to %d", what, proof.From, proof.To)
		}
		served := decodeHashes(what, proof.Hashes)
		if err := tlog.CheckTree(served, tree.N, tree.Hash, m, oldHash); err != nil {
			fatalf("%s: CheckTree: %v", what, err)
		}
		want, err := tlog.ProveTree(tree.N, m, hr)
		if err != nil {
			fatalf("%s: ProveTree: %v", what, err)
		}
		if !sameHashes(served, want) {
			fatalf("%s: differs from ProveTree", what)
		}
	}
	sizes := []int64{1, tree.N, tree.N / 2, tree.N - 1}
	for len(sizes) < *samples {
		sizes = append(sizes, 1+rng.Int63n(tree.N))
	}
	for _, m := range sizes {
		if m < 1 {
			continue
		}
		hm, err := tlog.TreeHash(m, hr)
		if err != nil {
			fatalf("tree hash of %d: %v", m, err)
		}
		checkTree(m, hm)
	}

	// Append-only: an earlier checkpoint is a prefix of this one.
	if *old != "" {
		parts := strings.SplitN(*old, ":", 2)
		oldSize, err := strconv.ParseInt(parts[0], 10, 64)
		if len(parts) != 2 || err != nil || oldSize < 1 {
			fatalf("-old must be SIZE:BASE64ROOT with SIZE ≥ 1")
		}
		oldHash, err := tlog.ParseHash(parts[1])
		if err != nil {
			fatalf("-old root: %v", err)
		}
		if oldSize > tree.N {
			fatalf("the tree shrank from %d to %d", oldSize, tree.N)
		}
		if hm, err := tlog.TreeHash(oldSize, hr); err != nil || hm != oldHash {
			fatalf("the first %d entries no longer hash to the earlier root (%v)", oldSize, err)
		}
		checkTree(oldSize, oldHash)
	}

	fmt.Printf("ok %s: size %d, root %v, %d tiles (%d fetched), %d inclusion and %d consistency proofs, signed by %s\n",
		info.Origin, tree.N, tree.Hash, tiles, tr.fetched, len(indexes), len(sizes), verifier.Name())
}

// Command verify-note checks a signed note read from stdin with golang.org/x/mod/sumdb/note,
// so notes signed by the TypeScript core can be verified by Go's reference code.
// Usage: verify-note <verifier key>... < note. Prints the names of the verified signers.
package main

import (
	"fmt"
	"io"
	"log"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: verify-note <verifier key>... < note")
	}
	var verifiers []note.Verifier
	for _, key := range os.Args[1:] {
		v, err := note.NewVerifier(key)
		if err != nil {
			log.Fatalf("verifier key %q: %v", key, err)
		}
		verifiers = append(verifiers, v)
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		log.Fatalf("note does not verify: %v", err)
	}
	for _, s := range n.Sigs {
		fmt.Println(s.Name)
	}
}

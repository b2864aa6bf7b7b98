package pack

import (
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"
)

// hashFile returns the xxhash64 (16 hex digits) and length of r's bytes.
func hashFile(r io.Reader) (string, int64, error) {
	h := xxhash.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, err
	}
	return fmt.Sprintf("%016x", h.Sum64()), n, nil
}

// hashBytes is the xxhash64 of data as 16 hex digits.
func hashBytes(data []byte) string { return fmt.Sprintf("%016x", xxhash.Sum64(data)) }

// Package filter holds per-record keep/reject rules: C4, Gopher, FineWeb,
// language identification, bad words, image–text rules. One file per filter,
// its constants named at the top and its rejection reasons spelled out.
package filter

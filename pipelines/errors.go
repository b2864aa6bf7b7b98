package pipelines

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Problem is one thing wrong with a pipeline file, with its position.
type Problem struct {
	File    string
	Line    int
	Column  int
	Message string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
}

// Problems is every problem found in a pipeline file, in file order. All are
// reported at once, so a user fixes a file in one pass.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problemList collects problems while a file is checked.
type problemList struct {
	file string
	list Problems
}

func (l *problemList) at(tok *token.Token, format string, args ...any) {
	p := Problem{File: l.file, Message: fmt.Sprintf(format, args...)}
	if tok != nil && tok.Position != nil {
		p.Line, p.Column = tok.Position.Line, tok.Position.Column
	}
	l.list = append(l.list, p)
}

func (l *problemList) atNode(n ast.Node, format string, args ...any) {
	var tok *token.Token
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 && !m.IsFlowStyle {
		// A block mapping's own token is its first value; its first key is
		// where a reader looks for it.
		tok = m.Values[0].Key.GetToken()
	} else if n != nil {
		tok = n.GetToken()
	}
	l.at(tok, format, args...)
}

// atComponent reports a problem at a component's position in the file.
func (l *problemList) atComponent(c *Component, format string, args ...any) {
	l.list = append(l.list, Problem{File: l.file, Line: c.Line, Column: c.Column, Message: fmt.Sprintf(format, args...)})
}

func (l *problemList) err() error {
	if len(l.list) == 0 {
		return nil
	}
	sort.SliceStable(l.list, func(i, j int) bool {
		a, b := l.list[i], l.list[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return l.list
}

// choices formats valid values for a message: "a, b or c".
func choices(names []string) string {
	switch len(names) {
	case 0:
		return "(none)"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// suggest returns the valid name closest to a misspelt one, if close enough.
func suggest(got string, valid []string) string {
	best, bestDist := "", len(got)/2+2
	for _, v := range valid {
		if d := editDistance(got, v); d < bestDist {
			best, bestDist = v, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// unknownName formats "unknown X "y"; valid: a, b or c (did you mean b?)".
func unknownName(what, got string, valid []string) string {
	msg := fmt.Sprintf("unknown %s %q; valid: %s", what, got, choices(valid))
	if s := suggest(got, valid); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// atError records a YAML syntax error at its position.
func (l *problemList) atError(err error) {
	var ye yaml.Error
	if errors.As(err, &ye) {
		l.at(ye.GetToken(), "%s", ye.GetMessage())
		return
	}
	l.at(nil, "%v", err)
}

// Package suggest finds the name a user probably meant: the command-line
// tools use it to propose a flag close to an unknown one.
package suggest

// maxDistance is the largest edit distance at which a name is proposed.
const maxDistance = 2

// Closest returns the name among names nearest to s by edit distance, at
// most two edits away, or "" when none is that close. On a tie the first
// wins.
func Closest(s string, names []string) string {
	best, bestD := "", maxDistance+1
	for _, n := range names {
		if d := Distance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// Distance is the Levenshtein distance of a and b in bytes: the fewest
// insertions, deletions and substitutions that turn a into b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	cur := make([]int, len(b)+1)
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

package configs

// Nearest returns the string of known closest to key by edit distance
// (Levenshtein: insertions, deletions and substitutions of one byte),
// when it is close enough to be the key meant: at most one edit for keys
// of up to 4 bytes, at most a third of key's length beyond. It returns
// "" when none is that close, or when key is itself known. Ties go to
// the first in known.
func Nearest(key string, known []string) string {
	limit := max(1, len(key)/3)
	best, bestDist := "", limit+1
	for _, k := range known {
		if k == key {
			return ""
		}
		if d := editDistance(key, k, bestDist); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, or any value
// of at least bound once it is known to be that large.
func editDistance(a, b string, bound int) int {
	if d := len(a) - len(b); d >= bound || -d >= bound {
		return bound
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= bound {
			return bound
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

package scim

// CloneAttrs returns a deep copy of an attribute tree (maps and slices
// copied, scalar values shared), so that an update function can change a
// resource without touching what the caller still holds.
func CloneAttrs(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = CloneValue(v)
	}
	return out
}

// CloneValue deep-copies one attribute value.
func CloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return CloneAttrs(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = CloneValue(e)
		}
		return out
	}
	return v
}

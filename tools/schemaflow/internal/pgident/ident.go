// Package pgident writes PostgreSQL identifiers into SQL text.
package pgident

// Quote quotes an identifier: it is wrapped in double quotes, and a double
// quote inside it is doubled, so any name (mixed case, spaces, keywords)
// reads back as itself.
func Quote(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}

// Qualified is schema.name, both quoted.
func Qualified(schema, name string) string {
	return Quote(schema) + "." + Quote(name)
}

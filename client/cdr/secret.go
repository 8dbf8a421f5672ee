package cdr

// Secret holds a value that must never be printed, logged or exported by accident: a password, a Difuse key, a
// voicemail PIN. Every formatting path shows a placeholder; Reveal is the one deliberate way out.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string               { return s.mask() }
func (s Secret) GoString() string             { return `cdr.Secret("` + s.mask() + `")` }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }
func (s Secret) Reveal() string               { return string(s) }
func (s Secret) IsSet() bool                  { return s != "" }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

package stockalert

import (
	"net/mail"
	"strings"
)

// Email is a normalised e-mail address: the bare address in lower case (mailbox names that differ only in
// case are one person in practice, and one account here).
type Email string

// MaxEmailLen is the longest address accepted (RFC 5321's path limit).
const MaxEmailLen = 254

// ParseEmail checks that s is a single bare address (no display name) and normalises it. It returns a
// *ValidationError for field "email" otherwise.
func ParseEmail(s string) (Email, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid("email", "is required")
	}
	if len(s) > MaxEmailLen {
		return "", Invalid("email", "is longer than %d characters", MaxEmailLen)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", Invalid("email", "%q is not an e-mail address", s)
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", Invalid("email", "%q has no valid domain", s)
	}
	return Email(strings.ToLower(s)), nil
}

func (e Email) String() string { return string(e) }

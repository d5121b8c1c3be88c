package stockalert

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Email is a normalised e-mail address, the key of an account: the bare address in lower case
// (mailbox names that differ only in case are one person in practice, and one account here).
//
// Internationalised addresses (RFC 6531/6532: UTF-8 in the local part and the domain) are accepted and
// normalised so that addresses that look alike and reach the same mailbox are one account:
//
//   - the whole address is first put in Unicode Normalization Form KC (UAX #15: compatibility
//     decomposition, then canonical composition), so that compatibility variants of a character are
//     that character: fullwidth "ａnn@example.com" is "ann@example.com", a precomposed "é" and
//     "e" + U+0301 are one address, the ligature "ﬁ" is "fi". Folding rather than refusing matches what
//     UTS #46 already does for the domain (its mapping includes NFKC) and what an input method types
//     by accident; the folded address is then checked as if it had been typed (a fullwidth "＠" that
//     folds into a second "@" is refused);
//   - the local part is lower-cased (Unicode simple case mapping, as for ASCII) and kept in NFC;
//   - a domain with non-ASCII characters is converted to its ASCII form (IDNA A-labels, "xn--…") by
//     the UTS #46 lookup profile of golang.org/x/net/idna, which also maps case and width, applies the
//     Bidi rule (RFC 5893) and the joiner rules (RFC 5892), and refuses what it cannot register:
//     "ann@Bücher.de" and "ann@xn--bcher-kva.de" are both stored as "ann@xn--bcher-kva.de";
//   - an address that is all ASCII is only lower-cased, as before.
//
// Confusable characters of other scripts (a Cyrillic "а" for a Latin "a") are not folded: they are
// visible, and a mail server treats them as other mailboxes.
type Email string

// MaxEmailLen is the longest address accepted (RFC 5321's path limit), in bytes of the normalised form.
const MaxEmailLen = 254

// ParseEmail checks that s is a single bare address (no display name) and normalises it (see Email);
// white space around it is ignored. It returns a *ValidationError for field "email" when s is empty,
// longer than MaxEmailLen, not an address, has no valid domain, or holds a character a reader cannot
// see or that is not text: invalid UTF-8, U+FFFD (text already damaged), control and format characters
// (Unicode categories Cc and Cf: zero-width spaces and joiners U+200B–U+200D, bidi controls
// U+202A–U+202E and U+2066–U+2069, the BOM …), private-use (Co) and unassigned code points, any white
// space or line/paragraph separator (Z*), and the other default-ignorable code points (Unicode's
// Other_Default_Ignorable_Code_Point and Variation_Selector: Hangul fillers, the combining grapheme
// joiner, variation selectors, U+115F, U+1160, U+3164, U+FFA0), which render as nothing and would let
// a second account look identical to an existing one, and U+2800 (Braille pattern blank: a symbol
// that renders as blank space, so neither a control nor default-ignorable).
func ParseEmail(s string) (Email, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid("email", "is required")
	}
	if len(s) > MaxEmailLen {
		return "", Invalid("email", "is longer than %d characters", MaxEmailLen)
	}
	if !utf8.ValidString(s) {
		return "", Invalid("email", "is not valid UTF-8")
	}
	typed := s
	if err := checkVisible(s); err != nil {
		return "", err
	}
	if !isASCII(s) {
		s = norm.NFKC.String(s)
		if err := checkVisible(s); err != nil {
			return "", err
		}
		if len(s) > MaxEmailLen {
			return "", Invalid("email", "is longer than %d characters once normalised", MaxEmailLen)
		}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", Invalid("email", "%q is not an e-mail address", typed)
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", Invalid("email", "%q has no valid domain", typed)
	}
	if isASCII(s) {
		return Email(strings.ToLower(s)), nil
	}
	local = norm.NFC.String(strings.ToLower(norm.NFC.String(local)))
	if !isASCII(domain) {
		ascii, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", Invalid("email", "%q has no valid internationalised domain", typed)
		}
		domain = ascii
	}
	e := local + "@" + strings.ToLower(domain)
	if len(e) > MaxEmailLen {
		return "", Invalid("email", "is longer than %d characters once normalised", MaxEmailLen)
	}
	return Email(e), nil
}

// checkVisible returns a *ValidationError naming the first character of s an address may not hold.
func checkVisible(s string) error {
	for _, r := range s {
		if invisible(r) {
			return Invalid("email", "holds the invisible or control character %U, which an address may not contain", r)
		}
	}
	return nil
}

// blankSymbols are assigned symbols that render as blank space, though they are neither controls,
// spaces nor default-ignorable: U+2800 BRAILLE PATTERN BLANK (So, the pattern with no dots raised).
var blankSymbols = map[rune]bool{0x2800: true}

// invisible reports whether r is a character an address may not hold (see ParseEmail).
func invisible(r rune) bool {
	if r == utf8.RuneError || blankSymbols[r] {
		return true
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Z,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector, unicode.White_Space) {
		return true
	}
	// Unassigned (Cn): in no general category of this Go's Unicode tables.
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (e Email) String() string { return string(e) }

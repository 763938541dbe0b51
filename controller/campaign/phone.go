package campaign

import "fmt"

// NormalizePhone reduces a number to its digits: spaces, '-', '.', '(' and
// ')' are dropped, one leading '+' is allowed, anything else is an error.
// 7–15 digits must remain (E.164 allows at most 15). No country code is
// added: lists are expected in international form, and the DNC list is
// matched against the same digits.
func NormalizePhone(s string) (string, error) {
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && len(digits) == 0 && i == indexNonSpace(s):
		default:
			return "", fmt.Errorf("bad phone %q: only digits, spaces, - . ( ) and a leading + are allowed", s)
		}
	}
	if len(digits) < 7 || len(digits) > 15 {
		return "", fmt.Errorf("bad phone %q: %d digits, want 7–15", s, len(digits))
	}
	return string(digits), nil
}

func indexNonSpace(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			return i
		}
	}
	return len(s)
}

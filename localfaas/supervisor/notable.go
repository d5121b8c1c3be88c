package supervisor

import (
	"encoding/json"
	"strings"
)

// Notable reports whether a line of function output deserves the console: localfaas's own lines about
// a process (start, exit, restart), and log/slog records (JSON or text handler) at level WARN or ERROR or
// carrying an "event" attribute. Functions mark what a person running the pipeline should see with
// slog.String("event", ...), e.g. the collector's run summary or an alert sent.
func Notable(text string) bool {
	if strings.HasPrefix(text, "localfaas: ") {
		return !strings.Contains(text, " started (pid ") && !strings.HasSuffix(text, " stopped")
	}
	if strings.HasPrefix(text, "{") {
		var rec map[string]any
		if json.Unmarshal([]byte(text), &rec) != nil {
			return false
		}
		level, _ := rec["level"].(string)
		_, event := rec["event"]
		return event || strings.HasPrefix(level, "WARN") || strings.HasPrefix(level, "ERROR")
	}
	return strings.Contains(text, " event=") || strings.HasPrefix(text, "event=") ||
		strings.Contains(text, "level=WARN") || strings.Contains(text, "level=ERROR")
}

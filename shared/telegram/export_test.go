package telegram

import "time"

// SetPacerClock makes p read the time from now (tests drive a virtual clock with it; MaxWait 0 keeps
// the pacer from sleeping on the real one).
func SetPacerClock(p *Pacer, now func() time.Time) { p.now = now }

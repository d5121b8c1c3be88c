package kafkaconnector

import "time"

// SetFetchMaxWait sets the partition readers' fetch deadline (fetchMaxWait) before Run: tests use a
// short one, so that a stopping connector does not wait a second for each idle fetch.
func (c *Connector) SetFetchMaxWait(d time.Duration) { c.fetchMaxWait = d }

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// summary is what the program shows once everything is up.
type summary struct {
	Gateway   string // base URL
	Listen    string // the address the gateway listens on, e.g. 127.0.0.1:8080
	Role      string // gateway or provider (LOCALFAAS_ROLE)
	Cron      string // set when the cron trigger is off (EXTERNAL_CRON): the cron functions' triggers say "cron (external)"
	User      string
	Password  string
	Functions []types.FunctionStatus
	DataDir   string
	Store     string   // where the data lives, e.g. "SQLite data/stockalert.db"
	Kafka     string   // e.g. "embedded 127.0.0.1:9092"
	Topics    []string // every topic of the run: the consumed ones and their .dlq and .retry twins
	Telegram  string   // the Telegram forwarder's state
	ReadyIn   time.Duration
}

// summaryEnd is the status table's last line: once it is on stdout, the whole table is.
const summaryEnd = "Ctrl-C stops everything."

// writeSummary prints the status table: one row per function with its replicas, URL and triggers, then
// where the gateway, data and broker are, and summaryEnd last. The table is rendered first and written
// in one Write, so that no log line lands inside it and a reader that sees its first line sees it all
// once summaryEnd is there. Its error is the writer's.
func writeSummary(w io.Writer, s summary) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	p := &printer{w: tw}
	p.printf("\nlocalfaas ready in %s\n\n", s.ReadyIn.Round(time.Millisecond))
	p.printf("FUNCTION\tREPLICAS\tURL\tTRIGGERS\n")
	for _, fn := range s.Functions {
		triggers := stack.Triggers(annotations(fn))
		if _, cron := stack.CronSchedule(annotations(fn)); cron && s.Cron != "" {
			triggers = "cron (external)" // localfaas's own cron is off: see the cron row
		}
		p.printf("%s\t%d/%d\t%s/function/%s\t%s\n", fn.Name, fn.AvailableReplicas, fn.Replicas,
			s.Gateway, fn.Name, triggers)
	}
	p.printf("\ngateway\t%s  (user %s, password %s)\n", s.Gateway, s.User, s.Password)
	for _, fn := range s.Functions {
		if fn.Name == "dashboard" {
			p.printf("web\t%s/function/dashboard/  (the dashboard: sign in with the link the bot answers to /web)\n", s.Gateway)
		}
	}
	if s.Listen != "" {
		p.printf("listen\t%s  (%s)\n", s.Listen, listenScope(s.Listen))
	}
	if s.Role == "provider" {
		p.printf("role\tprovider behind an OpenFaaS gateway (/system/info answers ProviderInfo)\n")
	}
	if s.Cron != "" {
		p.printf("cron\t%s\n", s.Cron)
	}
	p.printf("data\t%s\n", s.DataDir)
	if s.Store != "" {
		p.printf("store\t%s\n", s.Store)
	}
	if s.Kafka != "" {
		p.printf("kafka\t%s  topics: %s\n", s.Kafka, strings.Join(s.Topics, ", "))
	}
	if s.Telegram != "" {
		p.printf("telegram\t%s\n", s.Telegram)
	}
	p.printf("\n%s\n\n", summaryEnd)
	if p.err != nil {
		return p.err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// printer writes formatted text until the first error, which it keeps.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// listenScope says who can reach a listening address: this machine only, or others too.
func listenScope(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return "this machine only; GATEWAY_BIND to listen wider"
	}
	return "reachable from other machines: GATEWAY_BIND"
}

func annotations(fn types.FunctionStatus) map[string]string {
	if fn.Annotations == nil {
		return nil
	}
	return *fn.Annotations
}

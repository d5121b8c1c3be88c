package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium or Chrome binary, or "" when none is installed.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives the dashboard in headless Chromium as a user would: signs in with a link issued
// as /web issues it, adds a rule, sees it listed with its chart image loaded, deletes it; the page
// logs no console error and throws no exception. With DASHBOARD_SCREENSHOT set it writes a PNG of the
// signed-in page there (make dashboard-image).
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium found (chromium, chromium-browser or google-chrome on PATH): install Debian's chromium to run the browser test")
	}
	r := newRig(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.WindowSize(1000, 1400))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	// The first Run starts the browser; its context must have no timeout (chromedp.Run). The Log domain
	// reports what the console shows besides console.* calls: failed loads, CSP violations.
	if err := chromedp.Do(ctx, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, cdplog.Enable, cdp.Empty{})
		return chromedp.Void{}, err
	}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("console %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			problems = append(problems, "exception: "+msg)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	step, cancelStep := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStep()

	link := r.base + "/login?code=" + r.issue(time.Minute)
	err = chromedp.Do(step,
		chromedp.Navigate(link),
		chromedp.WaitVisible(`//button[text()="Sign in"]`),
		chromedp.Click(`//button[text()="Sign in"]`),
		chromedp.WaitVisible(`//h2[text()="Alert rules"]`),
		chromedp.SetValue(chromedp.CSS(`#ticker`), "NVDA"),
		chromedp.SetValue(chromedp.CSS(`#kind`), "above"),
		chromedp.SetValue(chromedp.CSS(`#level`), "150"),
		chromedp.Click(`//button[text()="Add rule"]`),
		chromedp.WaitVisible(`//td[text()="NVDA"]`),
	)
	if err != nil {
		t.Fatalf("sign in and add a rule: %v", err)
	}
	listed, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`table`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(listed, "above 150") {
		t.Fatalf("the rule is not listed: %q", listed)
	}
	chartWidth, err := chromedp.Run(step, chromedp.Poll[int](
		`(() => { const i = document.querySelector('img[alt="Price chart of NVDA"]'); return i && i.complete && i.naturalWidth > 0 ? i.naturalWidth : 0 })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || chartWidth <= 0 {
		t.Fatalf("the chart image did not load: width %d, %v", chartWidth, err)
	}
	if path := os.Getenv("DASHBOARD_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err = chromedp.Do(step,
		chromedp.Click(`//button[starts-with(@aria-label, "Delete rule")]`),
		chromedp.WaitVisible(`//p[text()="No rules yet."]`),
	)
	if err != nil {
		t.Fatalf("delete the rule: %v", err)
	}
	afterDelete, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(afterDelete, "above 150") {
		t.Fatalf("the rule is still listed: %q", afterDelete)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("the pages logged problems:\n%s", strings.Join(problems, "\n"))
	}
}

package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/chromedp/chromedp"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// A real browser for the player's tests: Debian's Chromium, headless, driven over the
// DevTools protocol. The flags keep it from reaching for the network (this machine has
// none: without them it stalls on its background services).

// chromiumPath finds the browser, or "" (the tests then skip, unless CI says it must be
// there: .ci/run installs it).
func chromiumPath() string {
	for _, p := range []string{os.Getenv("ZABSIM_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// browser is one headless Chromium for the whole test binary.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func browserContext(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium: .ci/run installs Debian's chromium package")
		}
		t.Skip("no Chromium (apt-get install chromium)")
	}
	browser.once.Do(func() {
		dir, err := os.MkdirTemp("", "zabsim-chromium")
		if err != nil {
			browser.err = err
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.UserDataDir(dir),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.Flag("font-render-hinting", "none"),
			chromedp.Flag("force-color-profile", "srgb"),
			chromedp.WindowSize(1400, 900),
		}
		actx, _ := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		// start the browser now (the first call's context is the browser's lifetime: no
		// deadline on it), so that one that cannot start fails here
		if err := chromedp.Do(ctx); err != nil {
			browser.err = fmt.Errorf("starting %s: %v", path, err)
			cancel()
			return
		}
		browser.ctx, browser.cancel = ctx, cancel
	})
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	return browser.ctx
}

// page is a player page open in a tab of the browser, with the console's errors.
type page struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	errors []string
}

// openPage opens file (an HTML file on disk) in a new tab and waits for the player.
func openPage(t *testing.T, file string) *page {
	t.Helper()
	tab, cancel := chromedp.NewContext(browserContext(t))
	p := &page{t: t, ctx: tab, cancel: cancel}
	// every console error, uncaught exception and browser log error, collected aside
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				p.mu.Lock()
				p.errors = append(p.errors, m.String())
				p.mu.Unlock()
			}
		}
	}()
	ctx, c2 := context.WithTimeout(tab, 60*time.Second)
	defer c2()
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1400, 900),
		chromedp.Navigate("file://"+file),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready]`)),
	); err != nil {
		p.close()
		t.Fatalf("opening %s: %v (console: %v)", file, err, p.consoleErrors())
	}
	if p.text("body[data-ready]") != "" && p.attr("body", "data-ready") != "1" {
		p.close()
		t.Fatalf("the player did not load: %s (console: %v)", p.text("body"), p.consoleErrors())
	}
	return p
}

func (p *page) close() { p.cancel() }

func (p *page) consoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// eval runs a JavaScript expression and returns its value as JSON.
func (p *page) eval(expr string) []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	return b
}

// evalInto runs a JavaScript expression and decodes its value into out.
func (p *page) evalInto(expr string, out any) {
	p.t.Helper()
	if err := json.Unmarshal(p.eval(expr), out); err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
}

// text is the text of the first element matching a CSS selector.
func (p *page) text(sel string) string {
	p.t.Helper()
	var s string
	p.evalInto(fmt.Sprintf(`(document.querySelector(%q)||{textContent:""}).textContent`, sel), &s)
	return s
}

// attr is an attribute of the first element matching a CSS selector.
func (p *page) attr(sel, name string) string {
	p.t.Helper()
	var s string
	p.evalInto(fmt.Sprintf(`(document.querySelector(%q)||{getAttribute(){return ""}}).getAttribute(%q)||""`, sel, name), &s)
	return s
}

// screenshot is a PNG of the viewport.
func (p *page) screenshot() []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatal(err)
	}
	return buf
}

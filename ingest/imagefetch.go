package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Downloading image URLs, as img2dataset does, with the limits a crawler
// that runs unattended needs: a timeout per request, a size cap, a few
// retries, the X-Robots-Tag opt-out, and no requests to loopback, private or
// link-local addresses (a URL in a scraped table must not reach the
// machine's own services or the cloud metadata endpoint).
//
// The address check runs at dial time on the IP actually being connected
// to, after DNS resolution, for every connection (redirects included): a
// host name that resolves to a public address when checked and to
// 127.0.0.1 when connecting (DNS rebinding) is still refused. Proxies from
// the environment are ignored, since a proxy would make the dialled
// address meaningless.

// Problems a download reports (source problem kinds).
const (
	fetchRefusedAddress = "image_address_refused"
	fetchRefusedRobots  = "image_refused_robots"
	fetchTooBig         = "image_too_big"
	fetchHTTPStatus     = "image_http_error"
	fetchFailed         = "image_download_failed"
	fetchBadURL         = "image_bad_url"
)

// disallowedRobotsDirectives are img2dataset's defaults: the image must not
// be used for AI training or be indexed.
var disallowedRobotsDirectives = []string{"noai", "noimageai", "noindex", "noimageindex"}

// fetchUserAgentToken is how X-Robots-Tag lines may address corpusflow
// ("X-Robots-Tag: corpusflow: noai").
const fetchUserAgentToken = "corpusflow"

// FetchConfig configures downloading; it is embedded in the image sources.
type FetchConfig struct {
	Download       bool   `yaml:"download" help:"download image URLs (otherwise records with a URL and no local file carry no image bytes)"`
	Concurrency    int    `yaml:"download_concurrency" help:"downloads in flight at once, per source part"`
	TimeoutSeconds int    `yaml:"download_timeout_s" help:"timeout of one request, headers and body"`
	MaxImageMB     int    `yaml:"max_image_mb" help:"larger downloads are abandoned and counted as image_too_big"`
	Retries        int    `yaml:"download_retries" help:"retries after a network error, a 429 or a 5xx answer"`
	RespectRobots  bool   `yaml:"respect_x_robots_tag" help:"refuse images served with X-Robots-Tag noai, noimageai, noindex or noimageindex (for all agents or for corpusflow), as img2dataset does"`
	AllowPrivate   bool   `yaml:"allow_private" help:"allow loopback, private and link-local addresses (tests, intranet mirrors); refused by default"`
	UserAgent      string `yaml:"user_agent" help:"User-Agent header of image requests"`
}

// DefaultFetchConfig is the download defaults (img2dataset: timeout 10 s,
// retries 0; one more retry here because a shard-scale run meets flaky hosts).
func DefaultFetchConfig() FetchConfig {
	return FetchConfig{Concurrency: 16, TimeoutSeconds: 10, MaxImageMB: 20, Retries: 1, RespectRobots: true,
		UserAgent: "Mozilla/5.0 (compatible; corpusflow/1.0; +https://github.com/corpusflow/corpusflow)"}
}

func (c *FetchConfig) validate() error {
	switch {
	case c.Concurrency < 1 || c.Concurrency > 1024:
		return fmt.Errorf("download_concurrency must be in [1, 1024], got %d", c.Concurrency)
	case c.TimeoutSeconds < 1:
		return errors.New("download_timeout_s must be at least 1")
	case c.MaxImageMB < 1:
		return errors.New("max_image_mb must be at least 1")
	case c.Retries < 0 || c.Retries > 10:
		return fmt.Errorf("download_retries must be in [0, 10], got %d", c.Retries)
	}
	return nil
}

// fetcher downloads images. It is safe for concurrent use.
type fetcher struct {
	cfg      FetchConfig
	client   *http.Client
	maxBytes int64
	backoff  time.Duration
}

// errRefusedAddress marks a dial to a forbidden address.
var errRefusedAddress = errors.New("address refused: loopback, private or link-local (allow_private: true allows it)")

func newFetcher(cfg FetchConfig) *fetcher {
	timeout := time.Duration(cfg.TimeoutSeconds) * time.Second
	dialer := &net.Dialer{Timeout: timeout}
	if !cfg.AllowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", errRefusedAddress, address)
			}
			if !publicAddress(ap.Addr()) {
				return fmt.Errorf("%w: %s", errRefusedAddress, ap.Addr())
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConnsPerHost:   4,
		ResponseHeaderTimeout: timeout,
		TLSHandshakeTimeout:   timeout,
	}
	client := &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("more than 5 redirects")
			}
			return nil
		},
	}
	return &fetcher{cfg: cfg, client: client, maxBytes: int64(cfg.MaxImageMB) << 20, backoff: 200 * time.Millisecond}
}

// publicAddress is false for every address a scraped URL has no business
// reaching.
func publicAddress(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() &&
		!a.IsLinkLocalMulticast() && !a.IsInterfaceLocalMulticast() && !a.IsMulticast() && !a.IsUnspecified() &&
		!cgnat.Contains(a)
}

// cgnat is 100.64.0.0/10 (RFC 6598), shared address space: not public.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// fetchResult is one download's outcome: data, or a problem kind and error.
type fetchResult struct {
	data    []byte
	problem string
	err     error
}

// fetch downloads url, retrying transient failures.
func (f *fetcher) fetch(ctx context.Context, url string) fetchResult {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fetchResult{problem: fetchBadURL, err: fmt.Errorf("%q is not an http(s) URL", url)}
	}
	var res fetchResult
	for attempt := 0; attempt <= f.cfg.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(f.backoff * time.Duration(attempt)):
			case <-ctx.Done():
				return fetchResult{problem: fetchFailed, err: ctx.Err()}
			}
		}
		var retry bool
		res, retry = f.once(ctx, url)
		if !retry {
			return res
		}
	}
	return res
}

func (f *fetcher) once(ctx context.Context, url string) (res fetchResult, retry bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fetchResult{problem: fetchBadURL, err: err}, false
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, errRefusedAddress) {
			return fetchResult{problem: fetchRefusedAddress, err: err}, false
		}
		return fetchResult{problem: fetchFailed, err: err}, true
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		transient := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fetchResult{problem: fetchHTTPStatus, err: fmt.Errorf("HTTP %d", resp.StatusCode)}, transient
	}
	if f.cfg.RespectRobots {
		if d := disallowedByRobotsTag(resp.Header.Values("X-Robots-Tag")); d != "" {
			return fetchResult{problem: fetchRefusedRobots, err: fmt.Errorf("X-Robots-Tag: %s", d)}, false
		}
	}
	if resp.ContentLength > f.maxBytes {
		return fetchResult{problem: fetchTooBig, err: fmt.Errorf("Content-Length %d is over %d MiB", resp.ContentLength, f.cfg.MaxImageMB)}, false
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return fetchResult{problem: fetchFailed, err: err}, true
	}
	if int64(len(data)) > f.maxBytes {
		return fetchResult{problem: fetchTooBig, err: fmt.Errorf("body over %d MiB", f.cfg.MaxImageMB)}, false
	}
	return fetchResult{data: data}, false
}

// disallowedByRobotsTag returns the directive that forbids use, or "". A
// value may address one agent ("googlebot: noindex"); only values for all
// agents or for corpusflow count.
func disallowedByRobotsTag(values []string) string {
	for _, v := range values {
		v = strings.ToLower(strings.TrimSpace(v))
		if agent, rest, ok := strings.Cut(v, ":"); ok && !strings.ContainsAny(agent, ", ") {
			if agent != fetchUserAgentToken && agent != "*" {
				continue
			}
			v = rest
		}
		for _, d := range strings.Split(v, ",") {
			d = strings.TrimSpace(d)
			for _, bad := range disallowedRobotsDirectives {
				if d == bad {
					return d
				}
			}
		}
	}
	return ""
}

package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// RateLimit is how many requests one identity may make: a sustained rate
// and a burst. Identities are token subjects, or the client address for
// requests without a valid token.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// limiters hands out one token bucket per identity, keeping the most
// recently seen 100,000.
type limiters struct {
	limit RateLimit
	mu    sync.Mutex
	cache *lru.Cache[string, *rate.Limiter]
}

func newLimiters(l RateLimit) *limiters {
	if l.PerSecond <= 0 {
		l.PerSecond = 20
	}
	if l.Burst <= 0 {
		l.Burst = 40
	}
	c, _ := lru.New[string, *rate.Limiter](100_000)
	return &limiters{limit: l, cache: c}
}

// allow takes a token for identity, or says how long to wait for one.
func (l *limiters) allow(identity string) (bool, time.Duration) {
	l.mu.Lock()
	lim, ok := l.cache.Get(identity)
	if !ok {
		lim = rate.NewLimiter(rate.Limit(l.limit.PerSecond), l.limit.Burst)
		l.cache.Add(identity, lim)
	}
	l.mu.Unlock()
	res := lim.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return false, d
	}
	return true, 0
}

func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeProblem(w, r, newProblem(http.StatusTooManyRequests, "rate-limited", "Too many requests", "slow down and retry after the time in Retry-After"))
}

package output

import (
	"sync"
	"time"

	"github.com/gopxl/beep/v2"
)

// nullOut consumes samples in real time and discards them, so that playback
// position advances as it would on a device.
type nullOut struct {
	rate beep.SampleRate
	once sync.Once
	stop chan struct{}
	done chan struct{}
}

// NewNull returns an output that plays nothing at the pace of rate.
func NewNull(rate beep.SampleRate) Output { return newNull(rate) }

func newNull(rate beep.SampleRate) *nullOut {
	return &nullOut{rate: rate, stop: make(chan struct{}), done: make(chan struct{})}
}

func (o *nullOut) Name() string                { return Null }
func (o *nullOut) SampleRate() beep.SampleRate { return o.rate }

// nullTick is how often the null output pulls; it also stands for the
// device buffer, pulled one tick ahead as a real device would.
const nullTick = 10 * time.Millisecond

func (o *nullOut) Start(src beep.Streamer) error {
	started := false
	o.once.Do(func() {
		started = true
		go o.run(src)
	})
	if !started {
		return errAlreadyStarted
	}
	return nil
}

func (o *nullOut) run(src beep.Streamer) {
	defer close(o.done)
	buf := make([][2]float64, o.rate.N(nullTick)+1)
	start := time.Now()
	pulled := 0
	ticker := time.NewTicker(nullTick)
	defer ticker.Stop()
	for {
		// Counting from the start rather than per tick keeps the clock from
		// drifting when ticks arrive late.
		want := o.rate.N(time.Since(start) + nullTick)
		for pulled < want {
			n := min(want-pulled, len(buf))
			src.Stream(buf[:n])
			pulled += n
		}
		select {
		case <-o.stop:
			return
		case <-ticker.C:
		}
	}
}

func (o *nullOut) Close() error {
	select {
	case <-o.stop:
	default:
		close(o.stop)
	}
	started := true
	o.once.Do(func() { started = false })
	if started {
		<-o.done
	}
	return nil
}

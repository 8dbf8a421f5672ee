//go:build linux

package output

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gopxl/beep/v2"
	"github.com/jfreymuth/pulse/proto"
)

// PulseAudio (and PipeWire's pulse server) is spoken in pure Go, so the
// default Linux build needs no cgo and no ALSA headers.
func init() {
	register(backend{name: Pulse, preference: 10, open: openPulse})
}

type pulseOut struct {
	rate   beep.SampleRate
	client *proto.Client
	conn   net.Conn
	index  uint32

	mu        sync.Mutex
	requested int // bytes the server asked for and has not had yet
	src       beep.Streamer
	closed    bool
	wake      chan struct{}
	done      chan struct{}
}

// connectTimeout bounds the dial: a PULSE_SERVER naming an unreachable host
// must not freeze start-up.
const connectTimeout = 2 * time.Second

// bytesPerFrame is two float32 channels.
const bytesPerFrame = 8

// openPulse speaks the native protocol through the library's proto layer
// rather than its PlaybackStream, whose Start blocks until the server reports
// that playback began (two seconds on a null sink here) and which decides
// prebuffering itself. Answering the server's data requests directly keeps
// every wait bounded and under our control.
func openPulse(rate beep.SampleRate, latency time.Duration) (Output, error) {
	server := os.Getenv("PULSE_SERVER")
	if server == "" {
		sock := pulseSocket()
		if sock == "" {
			return nil, errors.New("no PulseAudio or PipeWire server is running (no socket found)")
		}
		server = "unix:" + sock
	}
	c, conn, err := dialPulse(server)
	if err != nil {
		return nil, err
	}
	r := struct {
		c    *proto.Client
		conn net.Conn
	}{c, conn}
	o := &pulseOut{rate: rate, client: r.c, conn: r.conn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	fail := func(what string, err error) (Output, error) {
		_ = r.conn.Close()
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	err = r.c.Request(&proto.SetClientName{Props: proto.PropList{
		"application.name":       proto.PropListString("callscope"),
		"application.process.id": proto.PropListString(fmt.Sprint(os.Getpid())),
	}}, &proto.SetClientNameReply{})
	if err != nil {
		return fail("the sound server refused the connection", err)
	}
	r.c.Callback = o.handle
	// Latency is set explicitly: with the server's default buffering a short
	// clip was seen to hang instead of playing.
	target := uint32(rate.N(latency)) * bytesPerFrame
	req := proto.CreatePlaybackStream{
		SampleSpec:            proto.SampleSpec{Format: proto.FormatFloat32LE, Channels: 2, Rate: uint32(rate)},
		ChannelMap:            proto.ChannelMap{proto.ChannelLeft, proto.ChannelRight},
		SinkIndex:             proto.Undefined,
		BufferMaxLength:       2 * target,
		BufferTargetLength:    target,
		BufferPrebufferLength: bytesPerFrame,
		BufferMinimumRequest:  proto.Undefined,
		ChannelVolumes:        proto.ChannelVolumes{0x10000, 0x10000},
		AdjustLatency:         true,
		Properties:            proto.PropList{"media.name": proto.PropListString("callscope")},
	}
	var reply proto.CreatePlaybackStreamReply
	if err := r.c.Request(&req, &reply); err != nil {
		return fail("the sound server refused a playback stream", err)
	}
	o.mu.Lock()
	o.index = reply.StreamIndex
	o.requested += int(reply.Missing)
	o.mu.Unlock()
	return o, nil
}

// handle runs on the protocol's reader goroutine, so it only records what
// the server wants and leaves the work to run.
func (o *pulseOut) handle(msg any) {
	switch m := msg.(type) {
	case *proto.Request:
		o.mu.Lock()
		if m.StreamIndex == o.index {
			o.requested += int(m.Length)
		}
		o.mu.Unlock()
	case *proto.ConnectionClosed, *proto.PlaybackStreamKilled:
		o.mu.Lock()
		o.closed = true
		o.mu.Unlock()
	default:
		return
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *pulseOut) Name() string                { return Pulse }
func (o *pulseOut) SampleRate() beep.SampleRate { return o.rate }

func (o *pulseOut) Start(src beep.Streamer) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return errors.New("pulse output is closed")
	}
	if o.src != nil {
		return errAlreadyStarted
	}
	o.src = src
	go o.run()
	o.wake <- struct{}{}

	return nil
}

// run answers the server's data requests from src until Close.
func (o *pulseOut) run() {
	defer close(o.done)
	const chunkFrames = 1024
	frames := make([][2]float64, chunkFrames)
	data := make([]byte, chunkFrames*bytesPerFrame)
	for range o.wake {
		for {
			o.mu.Lock()
			closed, want, src := o.closed, o.requested/bytesPerFrame, o.src
			o.mu.Unlock()
			if closed {
				return
			}
			if want == 0 {
				break
			}
			n := min(want, chunkFrames)
			buf := frames[:n]
			got, _ := src.Stream(buf)
			clear(buf[max(got, 0):])
			for i, s := range buf {
				binary.LittleEndian.PutUint32(data[8*i:], math.Float32bits(float32(s[0])))
				binary.LittleEndian.PutUint32(data[8*i+4:], math.Float32bits(float32(s[1])))
			}
			if err := o.client.Send(o.index, data[:n*bytesPerFrame]); err != nil {
				o.mu.Lock()
				o.closed = true
				o.mu.Unlock()
				return
			}
			o.mu.Lock()
			o.requested -= n * bytesPerFrame
			o.mu.Unlock()
		}
	}
}

// Flush drops what the server has buffered (silence while idle, or audio
// from before a seek) so that new audio is heard without waiting behind it.
func (o *pulseOut) Flush() {
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if !closed {
		_ = o.client.Request(&proto.FlushPlaybackStream{StreamIndex: o.index}, nil)
	}
}

func (o *pulseOut) Close() error {
	o.mu.Lock()
	if o.closed && o.conn == nil {
		o.mu.Unlock()
		return nil
	}
	started := o.src != nil
	o.closed = true
	conn := o.conn
	o.conn = nil
	o.mu.Unlock()
	if conn == nil {
		return nil
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	_ = o.client.Request(&proto.DeletePlaybackStream{StreamIndex: o.index}, nil)
	err := conn.Close()
	if started {
		<-o.done
	}
	return err
}

// dialPulse connects and authenticates. The library's Connect dials with
// no timeout and only knows $XDG_RUNTIME_DIR; this bounds both.
func dialPulse(server string) (*proto.Client, net.Conn, error) {
	network, addr := "unix", strings.TrimPrefix(server, "unix:")
	for _, p := range []string{"tcp4:", "tcp6:", "tcp:"} {
		if strings.HasPrefix(server, p) {
			network, addr = strings.TrimSuffix(p, ":"), strings.TrimPrefix(server, p)
		}
	}
	conn, err := net.DialTimeout(network, addr, connectTimeout)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot connect to the sound server: %v", err)
	}
	c := &proto.Client{}
	c.SetTimeout(connectTimeout)
	c.Open(conn)
	// A server started with auth-anonymous accepts any cookie; otherwise
	// the user's cookie is where libpulse keeps it.
	cookie := make([]byte, 256)
	home, _ := os.UserHomeDir()
	for _, p := range []string{os.Getenv("PULSE_COOKIE"), filepath.Join(home, ".config/pulse/cookie"), filepath.Join(home, ".pulse-cookie")} {
		if p == "" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil && len(b) == 256 {
			cookie = b
			break
		}
	}
	var auth proto.AuthReply
	if err := c.Request(&proto.Auth{Version: c.Version(), Cookie: cookie}, &auth); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("the sound server refused us: %v", err)
	}
	c.SetVersion(auth.Version)
	return c, conn, nil
}

// pulseSocket looks where libpulse looks (the Go client itself only tries
// $XDG_RUNTIME_DIR), so that a machine with no server fails at once.
func pulseSocket() string {
	var dirs []string
	if d := os.Getenv("PULSE_RUNTIME_PATH"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "pulse"))
	}
	dirs = append(dirs, fmt.Sprintf("/run/user/%d/pulse", os.Getuid()), "/var/run/pulse", "/run/pulse")
	for _, d := range dirs {
		if p := filepath.Join(d, "native"); isSocket(p) {
			return p
		}
	}
	return ""
}

func isSocket(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

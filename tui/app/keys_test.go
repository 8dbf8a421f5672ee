package app

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/export"
	"github.com/callscope/callscope/tui/filter"
	"github.com/callscope/callscope/tui/overview"
	"github.com/callscope/callscope/tui/playerbar"
	"github.com/callscope/callscope/tui/prompt"
)

// named is a binding with the name of the KeyMap field it came from.
type named struct {
	name string
	b    key.Binding
}

// bindingsOf walks a KeyMap struct (embedded KeyMaps included) and returns every key.Binding field, so a binding
// added later is checked without anyone remembering to list it.
func bindingsOf(prefix string, km any) []named {
	var out []named
	v := reflect.ValueOf(km)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	bt := reflect.TypeOf(key.Binding{})
	for i := range v.NumField() {
		f, fv := v.Type().Field(i), v.Field(i)
		switch {
		case f.Type == bt:
			out = append(out, named{prefix + "." + f.Name, fv.Interface().(key.Binding)})
		case f.Type.Kind() == reflect.Struct && f.Anonymous:
			out = append(out, bindingsOf(prefix, fv.Interface())...)
		}
	}
	return out
}

// clashes lists the keys bound twice among bs (enabled bindings only).
func clashes(bs []named) []string {
	owner := map[string]string{}
	var out []string
	for _, nb := range bs {
		if !nb.b.Enabled() {
			continue
		}
		for _, k := range nb.b.Keys() {
			if o, ok := owner[k]; ok && o != nb.name {
				out = append(out, fmt.Sprintf("%q is bound to both %s and %s", k, o, nb.name))
				continue
			}
			owner[k] = nb.name
		}
	}
	return out
}

func without(bs []named, taken []named) []named {
	var out []named
	for _, nb := range bs {
		shared := false
		for _, t := range taken {
			for _, k := range nb.b.Keys() {
				for _, tk := range t.b.Keys() {
					shared = shared || k == tk
				}
			}
		}
		if !shared {
			out = append(out, nb)
		}
	}
	return out
}

// Every key map of the app, walked for conflicts in each place the keyboard can be: no key means two things at
// once. The player bar takes some of the calls' keys while it has focus (space, s, [, ], esc, tab): that is by
// design, and the help shows the meaning that holds (TestHelpFollowsFocus).
func TestNoKeyConflicts(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		calls := append(bindingsOf("app", m.keys), bindingsOf("calltable", m.table.Keys)...)
		calls = append(calls, bindingsOf("detail", m.detail.Keys)...)
		calls = append(calls, bindingsOf("player.Global", m.player.Global)...)
		player := bindingsOf("player", m.player.Keys)
		exp := bindingsOf("export", export.DefaultKeyMap())
		var expEdit, expConfirm []named
		for _, nb := range exp {
			if strings.HasSuffix(nb.name, ".Yes") || strings.HasSuffix(nb.name, ".No") {
				expConfirm = append(expConfirm, nb) // only while asking whether to overwrite
			} else {
				expEdit = append(expEdit, nb)
			}
		}
		contexts := map[string][]named{
			"calls":           calls,
			"player focused":  append(player, without(calls, player)...),
			"search":          bindingsOf("search", filter.NewSearch(m.ctx).Keys),
			"filter panel":    bindingsOf("panel", filter.NewPanel(m.ctx).Keys),
			"prompt":          bindingsOf("prompt", prompt.Range(m.ctx, fixedNow(), fixedNow()).Keys),
			"export":          expEdit,
			"export, confirm": expConfirm,
			"overview":        bindingsOf("overview", overview.DefaultKeyMap()),
			"users":           bindingsOf("users", m.users.Keys),
		}
		for name, bs := range contexts {
			if len(bs) == 0 {
				t.Errorf("%s: no bindings found", name)
			}
			for _, c := range clashes(bs) {
				t.Errorf("%s: %s", name, c)
			}
		}
	})
}

// The player bar and `callscope play` share one keymap (the CLI's is checked in playline's tests): + is louder,
// > is faster, in both.
func TestPlayerKeymapIsTheSharedOne(t *testing.T) {
	km := playerbar.DefaultKeyMap()
	for _, tc := range []struct {
		key  string
		b    key.Binding
		what string
	}{{"+", km.Louder, "louder"}, {"-", km.Quieter, "quieter"}, {">", km.Faster, "faster"}, {"<", km.Slower, "slower"},
		{"space", km.Toggle, "pause"}, {"shift+right", km.ForwardBig, "+30 s"}, {"]", km.NextSpeech, "next speech"}} {
		if !key.Matches(press(tc.key), tc.b) {
			t.Errorf("%q is not %s", tc.key, tc.what)
		}
	}
}

// Keys that change meaning with focus are shown in the help of the part that has focus: with the calls focused
// `?` says space marks and s sorts; with the player focused it says space pauses and s stops, and not the
// calls' meanings.
func TestHelpFollowsFocus(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 200, 50)
		m := h.m
		h.keys("?")
		calls := squeeze(h.screen())
		for _, want := range []string{" space mark ", " s sort column ", " [ previous page ", " tab player keys "} {
			if !strings.Contains(calls, want) {
				t.Errorf("calls help lacks %q:\n%s", want, calls)
			}
		}
		if strings.Contains(calls, "space/p") {
			t.Errorf("calls help shows the player's space:\n%s", calls)
		}
		h.keys("esc")
		h.send(playRequestFor(m))
		h.waitFor("the player bar", func() bool { return m.player.Active() })
		h.keys("tab")
		if !m.focus.player() {
			t.Fatal("tab did not give the player the keys")
		}
		h.keys("?")
		player := squeeze(h.screen())
		for _, want := range []string{"Player (has the keys)", " space/p pause/play ", " s stop ", " [/] previous/next speech ", " -/+ quieter/louder "} {
			if !strings.Contains(player, want) {
				t.Errorf("player help lacks %q:\n%s", want, player)
			}
		}
		for _, not := range []string{" space mark ", " s sort column ", " [ previous page ", " ] next page ", " tab player keys"} {
			if strings.Contains(player, not) {
				t.Errorf("player help still shows the calls' %q:\n%s", not, player)
			}
		}
	})
}

func playRequestFor(m *Model) common.PlayRequest {
	return common.PlayRequest{Record: *m.table.Selected()}
}

// squeeze is a screen's text with every run of spaces made one, so help lines compare whatever the column widths.
func squeeze(screen string) string {
	return " " + strings.Join(strings.Fields(ansi.Strip(screen)), " ") + " "
}

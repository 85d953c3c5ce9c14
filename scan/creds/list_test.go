package creds

import (
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Pair
		wantErr string
	}{
		{name: "pairs, comments, blanks, CRLF", in: "# vendor X\nadmin:admin\r\n\n  \nroot:\nuser:a:b\n",
			want: []Pair{{"admin", "admin", "f:2"}, {"root", "", "f:5"}, {"user", "a:b", "f:6"}}},
		{name: "spaces are part of the password", in: "admin: secret \n", want: []Pair{{"admin", " secret ", "f:1"}}},
		{name: "utf-8", in: "bénédicte:pässwörd\n", want: []Pair{{"bénédicte", "pässwörd", "f:1"}}},
		{name: "no colon", in: "admin admin\n", wantErr: "f line 1: want username:password"},
		{name: "empty user", in: "ok:1\n:pass\n", wantErr: "f line 2: the username is empty"},
		{name: "control character", in: "adm\x1bin:x\n", wantErr: "control characters"},
		{name: "tab in password", in: "a:b\tc\n", wantErr: "control characters"},
		{name: "field too long", in: "a:" + strings.Repeat("x", 129) + "\n", wantErr: "at most 128 bytes"},
		{name: "line too long", in: "a:" + strings.Repeat("x", 5000) + "\n", wantErr: "line 1: cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseList(strings.NewReader(tt.in), "f")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || simguard.ErrorCode(err) != simguard.EINVALID {
					t.Fatalf("err = %v, want EINVALID containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v", got)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("pair %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestBuiltin(t *testing.T) {
	b := Builtin()
	if len(b) < 100 {
		t.Fatalf("%d pairs", len(b))
	}
	// The Mirai table's order: root/xc3511 first, admin/admin fourth.
	if b[0].Username != "root" || b[0].Password != "xc3511" || b[3] != (Pair{"admin", "admin", b[3].Source}) {
		t.Errorf("first pairs: %+v", b[:4])
	}
	seen := map[[2]string]bool{}
	for _, p := range b {
		k := [2]string{p.Username, p.Password}
		if seen[k] {
			t.Errorf("duplicate %s:%s", p.Username, p.Password)
		}
		seen[k] = true
		if !strings.HasPrefix(p.Source, "builtin:") {
			t.Errorf("source %q", p.Source)
		}
	}
	for _, want := range [][2]string{{"root", ""}, {"admin", ""}, {"ubnt", "ubnt"}, {"root", "vizxv"}, {"pi", "raspberry"}} {
		if !seen[want] {
			t.Errorf("missing %s:%s", want[0], want[1])
		}
	}
}

func TestMerge(t *testing.T) {
	user := []Pair{{"admin", "admin", "user:1"}, {"acme", "acme123", "user:2"}}
	got := Merge(user, Builtin())
	if got[0].Source != "user:1" || got[1].Source != "user:2" {
		t.Fatalf("user pairs do not come first: %+v", got[:2])
	}
	if len(got) != len(Builtin())+1 {
		t.Fatalf("%d pairs, want the builtin ones plus one new", len(got))
	}
}

func FuzzParseList(f *testing.F) {
	f.Add("admin:admin\nroot:\n# c\n")
	f.Add("a:b:c\r\n\n:x\n")
	f.Add("x")
	f.Fuzz(func(t *testing.T, in string) {
		pairs, err := ParseList(strings.NewReader(in), "user")
		if err != nil {
			if simguard.ErrorCode(err) != simguard.EINVALID {
				t.Fatalf("error without EINVALID: %v", err)
			}
			return
		}
		for _, p := range pairs {
			if p.Username == "" || len(p.Username) > maxFieldLen || len(p.Password) > maxFieldLen ||
				hasControl(p.Username) || hasControl(p.Password) || strings.Contains(p.Username, ":") {
				t.Fatalf("bad pair %+v", p)
			}
		}
	})
}

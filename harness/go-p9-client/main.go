// A 9P2000.L client built on github.com/hugelgupf/p9 (software we did not write), driven by the harness against NineDoor.
//
// Usage: go-p9-client -addr HOST:PORT -aname ANAME OP...
// Each OP is one of `ls:/path`, `cat:/path`, `append:/path:text`, `stat:/path`; one JSON line per OP
// on stdout: {"op":..,"path":..,"ok":true,...} or {"ok":false,"errno":N,"error":".."}.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// Bounds: the harness reads small files and directories only.
const (
	dialTimeout     = 5 * time.Second
	opDeadline      = 10 * time.Second
	readBytesMax    = 65536
	readChunkBytes  = 8192
	readdirPasses   = 64
	readdirCountMax = 8192
)

type result struct {
	Op     string   `json:"op"`
	Path   string   `json:"path"`
	OK     bool     `json:"ok"`
	Names  []string `json:"names,omitempty"`
	Data   string   `json:"data,omitempty"`
	Size   uint64   `json:"size,omitempty"`
	Mode   uint32   `json:"mode,omitempty"`
	Wrote  int      `json:"wrote,omitempty"`
	Errno  int      `json:"errno,omitempty"`
	Error  string   `json:"error,omitempty"`
}

func split(path string) []string {
	var out []string
	for _, c := range strings.Split(path, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func walk(root p9.File, path string) (p9.File, error) {
	_, f, err := root.Walk(split(path))
	return f, err
}

func ls(root p9.File, path string) ([]string, error) {
	f, err := walk(root, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, _, err := f.Open(p9.ReadOnly); err != nil {
		return nil, err
	}
	var names []string
	offset := uint64(0)
	for i := 0; i < readdirPasses; i++ {
		ents, err := f.Readdir(offset, readdirCountMax)
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			return names, nil
		}
		for _, e := range ents {
			if e.Name != "." && e.Name != ".." {
				names = append(names, e.Name)
			}
			offset = e.Offset
		}
	}
	return nil, fmt.Errorf("directory longer than %d passes", readdirPasses)
}

func cat(root p9.File, path string) (string, error) {
	f, err := walk(root, path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, _, err := f.Open(p9.ReadOnly); err != nil {
		return "", err
	}
	var out []byte
	buf := make([]byte, readChunkBytes)
	for len(out) <= readBytesMax {
		n, err := f.ReadAt(buf, int64(len(out)))
		out = append(out, buf[:n]...)
		if err == io.EOF || (err == nil && n == 0) {
			return string(out), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("file larger than %d bytes", readBytesMax)
}

func appendText(root p9.File, path, text string) (int, error) {
	f, err := walk(root, path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, _, err := f.Open(p9.WriteOnly); err != nil {
		return 0, err
	}
	return f.WriteAt([]byte(text), 0)
}

func run(root p9.File, op string) result {
	parts := strings.SplitN(op, ":", 3)
	r := result{Op: parts[0]}
	if len(parts) > 1 {
		r.Path = parts[1]
	}
	var err error
	switch {
	case parts[0] == "ls" && len(parts) == 2:
		r.Names, err = ls(root, r.Path)
	case parts[0] == "cat" && len(parts) == 2:
		r.Data, err = cat(root, r.Path)
	case parts[0] == "append" && len(parts) == 3:
		r.Wrote, err = appendText(root, r.Path, parts[2]+"\n")
	case parts[0] == "stat" && len(parts) == 2:
		var f p9.File
		if f, err = walk(root, r.Path); err == nil {
			var attr p9.Attr
			_, _, attr, err = f.GetAttr(p9.AttrMaskAll)
			r.Size, r.Mode = attr.Size, uint32(attr.Mode)
			f.Close()
		}
	default:
		err = fmt.Errorf("bad op %q", op)
	}
	if err != nil {
		r.Error = err.Error()
		var e linux.Errno
		if errors.As(err, &e) {
			r.Errno = int(e)
		}
		return r
	}
	r.OK = true
	return r
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5640", "server address")
	aname := flag.String("aname", "queen", "attach name (a ticket, or queen on a dev hive)")
	msize := flag.Uint("msize", uint(p9.DefaultMessageSize), "msize to offer")
	flag.Parse()

	conn, err := net.DialTimeout("tcp", *addr, dialTimeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(2)
	}
	defer conn.Close()
	// One deadline for the whole run: no wait in here is unbounded.
	conn.SetDeadline(time.Now().Add(opDeadline))
	client, err := p9.NewClient(conn, p9.WithMessageSize(uint32(*msize)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "version:", err)
		os.Exit(2)
	}
	defer client.Close()
	enc := json.NewEncoder(os.Stdout)
	root, err := client.Attach(*aname)
	if err != nil {
		r := result{Op: "attach", Path: *aname, Error: err.Error()}
		var e linux.Errno
		if errors.As(err, &e) {
			r.Errno = int(e)
		}
		enc.Encode(r)
		os.Exit(1)
	}
	enc.Encode(result{Op: "attach", Path: "/", OK: true})
	for _, op := range flag.Args() {
		enc.Encode(run(root, op))
	}
	root.Close()
}

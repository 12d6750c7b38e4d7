package model

import (
	"slices"

	"github.com/zabsim/zabsim/sim"
)

// EventType is Watcher.Event.EventType, with its wire values.
type EventType int32

const (
	EventNone                EventType = -1
	EventNodeCreated         EventType = 1
	EventNodeDeleted         EventType = 2
	EventNodeDataChanged     EventType = 3
	EventNodeChildrenChanged EventType = 4
)

func (e EventType) String() string {
	switch e {
	case EventNone:
		return "None"
	case EventNodeCreated:
		return "NodeCreated"
	case EventNodeDeleted:
		return "NodeDeleted"
	case EventNodeDataChanged:
		return "NodeDataChanged"
	case EventNodeChildrenChanged:
		return "NodeChildrenChanged"
	}
	return "EventType(" + itoa(int64(e)) + ")"
}

// KeeperState is Watcher.Event.KeeperState, with its wire values.
type KeeperState int32

const (
	StateDisconnected  KeeperState = 0
	StateSyncConnected KeeperState = 3
	StateExpired       KeeperState = -112
	StateClosed        KeeperState = 7
)

func (s KeeperState) String() string {
	switch s {
	case StateDisconnected:
		return "Disconnected"
	case StateSyncConnected:
		return "SyncConnected"
	case StateExpired:
		return "Expired"
	case StateClosed:
		return "Closed"
	}
	return "KeeperState(" + itoa(int64(s)) + ")"
}

// firedWatch is a watch event on its way to the client connection it belongs to.
type firedWatch struct {
	c  sim.ConnID
	ev WatcherEvent
}

// watchManager mirrors server/watch/WatchManager (standard, one-shot watches): per path
// the connections watching it, in the order they registered (a set: no duplicates), and
// per connection its paths, so that a closed connection's watches can go.
type watchManager struct {
	watchTable  map[string][]sim.ConnID        // looked up by path only
	watch2Paths map[sim.ConnID]map[string]bool // looked up by connection only
}

func (m *watchManager) addWatch(path string, c sim.ConnID) {
	if m.watchTable == nil {
		m.watchTable = map[string][]sim.ConnID{}
		m.watch2Paths = map[sim.ConnID]map[string]bool{}
	}
	if slices.Contains(m.watchTable[path], c) {
		return
	}
	m.watchTable[path] = append(m.watchTable[path], c)
	ps := m.watch2Paths[c]
	if ps == nil {
		ps = map[string]bool{}
		m.watch2Paths[c] = ps
	}
	ps[path] = true
}

// triggerWatch mirrors WatchManager.triggerWatch(path, type, supress): every watcher of
// path is removed (watches are one-shot) and gets the event, unless it is in supress (it
// already got one for this change). It returns the watchers it notified.
func (m *watchManager) triggerWatch(t *DataTree, path string, typ EventType, zxid Zxid, supress []sim.ConnID) []sim.ConnID {
	ws := m.watchTable[path]
	if len(ws) == 0 {
		return nil
	}
	delete(m.watchTable, path)
	for _, c := range ws {
		if ps := m.watch2Paths[c]; ps != nil {
			delete(ps, path)
		}
	}
	for _, c := range ws {
		if slices.Contains(supress, c) {
			continue
		}
		t.fire(c, typ, path, zxid)
	}
	return ws
}

// removeWatcher mirrors WatchManager.removeWatcher(watcher): forget a closed connection.
func (m *watchManager) removeWatcher(c sim.ConnID) {
	ps := m.watch2Paths[c]
	if ps == nil {
		return
	}
	delete(m.watch2Paths, c)
	for p := range ps { // each path independently: the order does not matter
		ws := m.watchTable[p]
		if i := slices.Index(ws, c); i >= 0 {
			ws = slices.Delete(ws, i, i+1)
		}
		if len(ws) == 0 {
			delete(m.watchTable, p)
		} else {
			m.watchTable[p] = ws
		}
	}
}

func (m *watchManager) size() int {
	n := 0
	for _, ws := range m.watchTable {
		n += len(ws)
	}
	return n
}

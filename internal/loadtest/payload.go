package loadtest

import (
	"bytes"
	"math"
	"strconv"
)

// The avatar a simulated person sends is shaped like the Hubs client's #remote-avatar: components keyed by their
// index in the networked schema, "0" position, "1" rotation, "2" scale, "3" player-info, "4" networked-avatar,
// "5"/"6" head position and rotation, "7"/"8"/"9" left hand position, rotation and visibility, "10"/"11"/"12"
// the right hand's. A first sync carries all of them; an update carries only what changed, as NAF sends it.
//
// Each message also carries "lt":[person, seq, sent_us] at its top level, where NAF clients ignore unknown
// keys: the sender's index in this run, its own sequence number, and the send time in Unix microseconds.
// Receivers find it without decoding the frame (the relay leaves the string untouched), which keeps the load
// generator's own cost per message small next to the server's.

var (
	ltMarkerRaw     = []byte(`"lt":[`)   // in a naf payload (a first sync, re-encoded by the server)
	ltMarkerEscaped = []byte(`\"lt\":[`) // inside the string of a nafr payload
)

// pose is where a person's avatar is at one moment.
type pose struct {
	x, z, yaw          float64 // position on the floor and heading
	headPitch, headYaw float64
	lhY, rhY           float64 // hand heights
}

// poseAt moves a person around a circle of its own, turning its head and swinging its hands: all components
// change every update, as with someone walking and looking around.
func poseAt(person int, seconds float64) pose {
	r := 2 + float64(person%5)
	phase := float64(person) * 0.7
	a := phase + seconds*0.4
	return pose{
		x: float64(person%7)*3 + r*math.Cos(a), z: float64(person/7%7)*3 + r*math.Sin(a), yaw: math.Mod(a+math.Pi/2, 2*math.Pi),
		headPitch: 0.2 * math.Sin(seconds*1.3+phase), headYaw: 0.5 * math.Sin(seconds*0.9+phase),
		lhY: 1.1 + 0.15*math.Sin(seconds*3+phase), rhY: 1.1 + 0.15*math.Cos(seconds*3+phase),
	}
}

func appendNum(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'f', 3, 64) }

func appendVec(b []byte, key string, x, y, z float64) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":{"x":`...)
	b = appendNum(b, x)
	b = append(b, `,"y":`...)
	b = appendNum(b, y)
	b = append(b, `,"z":`...)
	b = appendNum(b, z)
	return append(b, '}')
}

// avatar is the identity of one person's networked avatar.
type avatar struct {
	networkID     string
	session       string // the session id the join reply gave: owner and creator
	lastOwnerTime int64  // milliseconds, set at the first sync
	person        int
}

func (a *avatar) appendHeader(b []byte) []byte {
	b = append(b, `{"networkId":"`...)
	b = append(b, a.networkID...)
	b = append(b, `","owner":"`...)
	b = append(b, a.session...)
	b = append(b, `","creator":"`...)
	b = append(b, a.session...)
	b = append(b, `","lastOwnerTime":`...)
	b = strconv.AppendInt(b, a.lastOwnerTime, 10)
	return append(b, `,"template":"#remote-avatar","persistent":false,"parent":null,"components":{`...)
}

func appendLT(b []byte, person int, seq uint64, sentUS int64) []byte {
	b = append(b, ltMarkerRaw...)
	b = strconv.AppendInt(b, int64(person), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, sentUS, 10)
	return append(b, ']')
}

// appendFirstSync appends the naf payload that instantiates the avatar for everyone: every component, and
// isFirstSync, which makes the server check the template and take the sender as owner.
func (a *avatar) appendFirstSync(b []byte, p pose, seq uint64, sentUS int64) []byte {
	b = append(b, `{"dataType":"u","data":`...)
	b = a.appendHeader(b)
	b = appendVec(b, "0", p.x, 0, p.z)
	b = append(b, ',')
	b = appendVec(b, "1", 0, p.yaw, 0)
	b = append(b, ',')
	b = appendVec(b, "2", 1, 1, 1)
	b = append(b, `,"3":{"avatarSrc":"/assets/avatars/loadtest.glb","avatarType":"skinnable","muted":true,"isSharingAvatarCamera":false}`...)
	b = append(b, `,"4":{"left_hand_pose":0,"right_hand_pose":0},`...)
	b = appendPoseParts(b, p)
	b = append(b, `,"9":true,"12":true}`...)
	b = append(b, `,"isFirstSync":true},`...)
	b = appendLT(b, a.person, seq, sentUS)
	return append(b, '}')
}

func appendPoseParts(b []byte, p pose) []byte {
	b = appendVec(b, "5", 0, 1.6, 0)
	b = append(b, ',')
	b = appendVec(b, "6", p.headPitch, p.headYaw, 0)
	b = append(b, ',')
	b = appendVec(b, "7", -0.25, p.lhY, -0.2)
	b = append(b, ',')
	b = appendVec(b, "8", 0.3, 0, 0.1)
	b = append(b, ',')
	b = appendVec(b, "10", 0.25, p.rhY, -0.2)
	b = append(b, ',')
	return appendVec(b, "11", 0.3, 0, -0.1)
}

// appendUpdate appends the inner NAF message of a pose update (um with this one avatar). A moving person sends
// position, rotation, head and hands; a still one only its head turning.
func (a *avatar) appendUpdate(b []byte, p pose, moving bool, seq uint64, sentUS int64) []byte {
	b = append(b, `{"dataType":"um","data":{"d":[`...)
	b = a.appendHeader(b)
	if moving {
		b = appendVec(b, "0", p.x, 0, p.z)
		b = append(b, ',')
		b = appendVec(b, "1", 0, p.yaw, 0)
		b = append(b, ',')
		b = appendPoseParts(b, p)
	} else {
		b = appendVec(b, "6", p.headPitch, p.headYaw, 0)
	}
	b = append(b, `}}]},`...)
	b = appendLT(b, a.person, seq, sentUS)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. The payloads above hold no control characters or backslashes,
// but any byte sequence comes out valid.
func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// parseLT finds the "lt" stamp after marker in a frame and returns its parts.
func parseLT(frame, marker []byte) (person int, seq uint64, sentUS int64, ok bool) {
	i := bytes.LastIndex(frame, marker)
	if i < 0 {
		return 0, 0, 0, false
	}
	rest := frame[i+len(marker):]
	var vals [3]uint64
	for k := range vals {
		n, digits := 0, uint64(0)
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' && n < 19 {
			digits = digits*10 + uint64(rest[n]-'0')
			n++
		}
		want := byte(',')
		if k == 2 {
			want = ']'
		}
		if n == 0 || n >= len(rest) || rest[n] != want {
			return 0, 0, 0, false
		}
		vals[k] = digits
		rest = rest[n+1:]
	}
	if vals[0] > math.MaxInt32 || vals[2] > math.MaxInt64 {
		return 0, 0, 0, false
	}
	return int(vals[0]), vals[1], int64(vals[2]), true
}

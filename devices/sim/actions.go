package sim

import (
	"context"
	"fmt"
	"time"

	"portier/models"
)

// Actor is who asks for an action, as the device's log records it.
type Actor struct {
	AuthID  uint32
	Name    string
	Trigger int // TriggerWeb when zero, unless Source or System is set
	Source  int // 1: keypad code
	// System: the action came over Bluetooth from an app or a fob, which the log records as
	// trigger 0 (system). Trigger alone cannot say so: its zero means web.
	System bool
}

// Base durations at Speed 1; the device's configuration sets the others (unlatch duration,
// lock 'n' go timeout, electric strike duration, ring-to-open timeout).
const (
	moveTime = 1500 * time.Millisecond // the motor turning the key
	openTime = 800 * time.Millisecond  // an opener starting the electric strike
	doorTime = 4 * time.Second         // someone walks through after an unlatch
)

// Action carries out a lock action (Web API numbering, models.ActionsFor). With wait it returns
// when the device reached the state the action leads to (not the relock of lock 'n' go);
// without, once the device accepted it. ErrNoAnswer means the action was carried out but the
// answer was lost (FaultNoAnswer).
func (b *Bridge) Action(ctx context.Context, t models.DeviceType, nukiID uint32, a models.LockAction, who Actor, wait bool) error {
	done := make(chan error, 1)
	var faultNoAnswer bool
	err := b.withDevice(t, nukiID, func(d *device, p *pending) error {
		if !models.HasAction(t, a) {
			return ErrInvalidAction
		}
		if !d.online {
			return ErrOffline
		}
		switch d.fault {
		case FaultBusy:
			return ErrBusy
		case FaultFailed:
			return ErrFailed
		}
		if d.working {
			return ErrBusy
		}
		faultNoAnswer = d.fault == FaultNoAnswer
		d.executed[a]++
		d.gen++
		b.start(d, p, a, who, done)
		return nil
	})
	if err != nil {
		return err
	}
	if faultNoAnswer {
		return ErrNoAnswer
	}
	if !wait {
		return nil
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (who Actor) trigger() int {
	if who.Trigger == 0 && who.Source == 0 && !who.System {
		return TriggerWeb
	}
	return who.Trigger
}

// start begins the action's state sequence; done gets the outcome of its first part.
func (b *Bridge) start(d *device, p *pending, a models.LockAction, who Actor, done chan<- error) {
	gen := d.gen
	logAction := int(a)
	switch d.spec.Type {
	case models.DeviceOpener:
		b.startOpener(d, p, a, who, done)
		return
	case models.DeviceBox:
		logAction = int(models.ActionUnlatch)
		a = models.ActionUnlatch
	}
	finish := func(p *pending, err error, completion int) {
		d.working = false
		b.changed(p, d, b.event(d, logAction, who.trigger(), who, completion))
		done <- err
	}
	// moveTo turns the motor: the device shows via at once and reaches to after moveTime,
	// unless the motor is blocked. then runs on arrival, under the lock.
	moveTo := func(via, to int, then func(p *pending)) {
		d.working = true
		d.state = via
		b.changed(p, d, nil)
		b.after(moveTime, func() {
			b.mu.Lock()
			var p2 pending
			if d.gen == gen {
				if d.fault == FaultMotorBlocked {
					d.state = StateMotorBlocked
					finish(&p2, ErrMotorBlocked, CompletionMotorBlocked)
				} else {
					d.state = to
					b.drain(d, &p2)
					then(&p2)
				}
			}
			b.unlock(p2)
		})
	}
	switch a {
	case models.ActionUnlock:
		if d.state == StateUnlocked {
			finish(p, nil, CompletionSuccess)
			return
		}
		moveTo(StateUnlocking, StateUnlocked, func(p2 *pending) {
			finish(p2, nil, CompletionSuccess)
			b.scheduleAutoLock(d, gen)
		})
	case models.ActionLock:
		if d.state == StateLocked {
			finish(p, nil, CompletionSuccess)
			return
		}
		moveTo(StateLocking, StateLocked, func(p2 *pending) { finish(p2, nil, CompletionSuccess) })
	case models.ActionUnlatch:
		moveTo(StateUnlatching, StateUnlatched, func(p2 *pending) {
			finish(p2, nil, CompletionSuccess)
			b.walkThrough(d, gen)
			b.after(b.seconds(d, "unlatchDuration", 3), func() {
				b.mu.Lock()
				var p3 pending
				if d.gen == gen && d.state == StateUnlatched {
					d.state = StateUnlocked
					b.changed(&p3, d, nil)
					b.scheduleAutoLock(d, gen)
				}
				b.unlock(p3)
			})
		})
	case models.ActionLockNGo, models.ActionLockNGoUnlatch:
		via, first := StateUnlocking, StateUnlockedLnGo
		if a == models.ActionLockNGoUnlatch {
			via, first = StateUnlatching, StateUnlatched
		}
		moveTo(via, first, func(p2 *pending) {
			finish(p2, nil, CompletionSuccess)
			if a == models.ActionLockNGoUnlatch {
				b.walkThrough(d, gen)
			}
			b.after(b.seconds(d, "lngTimeout", 20), func() {
				b.mu.Lock()
				var p3 pending
				if d.gen == gen {
					d.state = StateLocking
					b.changed(&p3, d, nil)
					b.after(moveTime, func() {
						b.mu.Lock()
						var p4 pending
						if d.gen == gen {
							d.state = StateLocked
							b.drain(d, &p4)
						}
						b.unlock(p4)
					})
				}
				b.unlock(p3)
			})
		})
	}
}

// walkThrough opens the door after an unlatch and closes it a few seconds later, as a person
// walking through does — only a door sensor notices.
func (b *Bridge) walkThrough(d *device, gen int) {
	if !d.spec.DoorSensor {
		return
	}
	b.after(openTime, func() {
		b.mu.Lock()
		var p pending
		b.setDoor(d, &p, true)
		b.after(doorTime, func() {
			b.mu.Lock()
			var p2 pending
			b.setDoor(d, &p2, false)
			b.unlock(p2)
		})
		b.unlock(p)
	})
}

// scheduleAutoLock relocks an unlocked lock after its auto lock timeout, when auto lock is on.
func (b *Bridge) scheduleAutoLock(d *device, gen int) {
	if on, _ := d.config["autoLock"].(bool); !on {
		return
	}
	b.after(b.seconds(d, "autoLockTimeout", 120), func() {
		b.mu.Lock()
		var p pending
		if d.gen == gen && d.state == StateUnlocked && !d.working {
			d.gen++
			gen2 := d.gen
			d.state = StateLocking
			b.changed(&p, d, nil)
			b.after(moveTime, func() {
				b.mu.Lock()
				var p2 pending
				if d.gen == gen2 {
					d.state = StateLocked
					b.drain(d, &p2)
					b.changed(&p2, d, b.event(d, int(models.ActionLock), TriggerAutoLock, Actor{}, CompletionSuccess))
				}
				b.unlock(p2)
			})
		}
		b.unlock(p)
	})
}

// seconds reads a duration setting in seconds from the device's configuration.
func (b *Bridge) seconds(d *device, key string, fallback int) time.Duration {
	n := fallback
	if v, ok := d.config[key].(int); ok && v > 0 {
		n = v
	}
	return time.Duration(n) * time.Second
}

// drain wears the battery: one percent every DrainEvery motor actions.
func (b *Bridge) drain(d *device, p *pending) {
	d.actions++
	if d.actions >= b.opt.DrainEvery && d.charge > 0 {
		d.actions = 0
		d.charge--
		d.critical = d.charge <= criticalCharge
	}
	b.changed(p, d, nil)
}

// startOpener runs the opener's actions: ring to open on/off, continuous mode on/off, open.
func (b *Bridge) startOpener(d *device, p *pending, a models.LockAction, who Actor, done chan<- error) {
	gen := d.gen
	log := func(p *pending) {
		b.changed(p, d, b.event(d, int(a), who.trigger(), who, CompletionSuccess))
	}
	switch a {
	case models.ActionOpenerRTOOn:
		d.state = OpenerRTOActive
		log(p)
		minutes := 20
		if v, ok := d.config["rtoTimeout"].(int); ok && v > 0 {
			minutes = v
		}
		b.after(time.Duration(minutes)*time.Minute, func() {
			b.mu.Lock()
			var p2 pending
			if d.gen == gen && d.state == OpenerRTOActive && d.mode == ModeDoor {
				d.state = OpenerOnline
				b.changed(&p2, d, nil)
			}
			b.unlock(p2)
		})
	case models.ActionOpenerRTOOff:
		if d.mode == ModeDoor {
			d.state = OpenerOnline
		}
		log(p)
	case models.ActionOpenerCMOn:
		d.mode, d.state = ModeContinuous, OpenerRTOActive
		log(p)
	case models.ActionOpenerCMOff:
		d.mode, d.state = ModeDoor, OpenerOnline
		log(p)
	case models.ActionOpenerOpen:
		d.working = true
		before := d.state
		d.state = OpenerOpening
		b.changed(p, d, nil)
		b.after(openTime, func() {
			b.mu.Lock()
			var p2 pending
			if d.gen == gen {
				d.state = OpenerOpen
				b.drain(d, &p2)
				d.working = false
				log(&p2)
				done <- nil
				strike := 3 * time.Second
				if v, ok := d.config["electricStrikeDuration"].(int); ok && v > 0 {
					strike = time.Duration(v) * time.Millisecond
				}
				b.after(strike, func() {
					b.mu.Lock()
					var p3 pending
					if d.gen == gen && d.state == OpenerOpen {
						d.state = before
						if before == OpenerOpening {
							d.state = OpenerOnline
						}
						b.changed(&p3, d, nil)
					}
					b.unlock(p3)
				})
			}
			b.unlock(p2)
		})
		return
	}
	done <- nil
}

// Ring rings the doorbell at an opener: with ring to open active (or continuous mode) the door
// opens; ring to open ends after one use unless continuous mode is on.
func (b *Bridge) Ring(t models.DeviceType, nukiID uint32) error {
	var open bool
	err := b.withDevice(t, nukiID, func(d *device, p *pending) error {
		if t != models.DeviceOpener {
			return ErrInvalidAction
		}
		now := b.opt.Now().UTC()
		d.ringAt = &now
		b.changed(p, d, b.event(d, LogRing, TriggerManual, Actor{}, CompletionSuccess))
		if d.state == OpenerRTOActive {
			open = true
			if d.mode == ModeDoor {
				if off, _ := d.config["disableRtoAfterRing"].(bool); off {
					d.state = OpenerOnline
				}
			}
		}
		return nil
	})
	if err != nil || !open {
		return err
	}
	return b.Action(context.Background(), t, nukiID, models.ActionOpenerOpen, Actor{Trigger: TriggerAuto}, false)
}

// EnterKeypadCode types a code on the device's keypad: a valid enabled code unlocks (with the
// code's authorization in the log); a wrong one is logged as such.
func (b *Bridge) EnterKeypadCode(t models.DeviceType, nukiID uint32, code int) error {
	var who *Actor
	err := b.withDevice(t, nukiID, func(d *device, p *pending) error {
		if !d.spec.Keypad {
			return ErrInvalidAction
		}
		now := b.localNow(d) // in the device's zone
		for _, a := range d.auths {
			if a.Type == AuthKeypadCode && a.Code == code && a.Enabled && a.AllowedAt(now, now.Location()) {
				who = &Actor{AuthID: a.ID, Name: a.Name, Trigger: TriggerKeypad, Source: 1}
				return nil
			}
		}
		b.changed(p, d, b.event(d, int(models.ActionUnlock), TriggerKeypad, Actor{Source: 1}, CompletionWrongCode))
		return nil
	})
	if err != nil || who == nil {
		return err
	}
	return b.Action(context.Background(), t, nukiID, models.ActionUnlock, *who, false)
}

// localNow is the time in the device's time zone (its restrictions are in local time).
func (b *Bridge) localNow(d *device) time.Time {
	now := b.opt.Now()
	id, _ := d.config["timezoneId"].(int)
	return now.In(models.NukiTimezone(id))
}

// PressButton presses the button on the device, once or twice (presses 1 or 2). The device
// carries out what its configuration gives that press (singleButtonPressAction,
// doubleButtonPressAction), logged with trigger button and nobody's authorization. With the
// button switched off (buttonEnabled), or set to do nothing or only to show the status, the
// press does nothing, as on the device.
func (b *Bridge) PressButton(t models.DeviceType, nukiID uint32, presses int) error {
	var a models.LockAction
	err := b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		key := "singleButtonPressAction"
		switch presses {
		case 1:
		case 2:
			key = "doubleButtonPressAction"
		default:
			return fmt.Errorf("%d presses: %w", presses, ErrInvalidAction)
		}
		if on, _ := d.config["buttonEnabled"].(bool); !on {
			return nil
		}
		setting, _ := d.config[key].(int)
		a = buttonAction(d, setting)
		return nil
	})
	if err != nil || a == 0 {
		return err
	}
	return b.Action(context.Background(), t, nukiID, a, Actor{Trigger: TriggerButton}, false)
}

// buttonAction is the action of a button setting (Web API "button action" codes), 0 for none.
func buttonAction(d *device, setting int) models.LockAction {
	if d.spec.Type == models.DeviceOpener {
		switch setting {
		case 1:
			return toggleRTO(d)
		case 2:
			return models.ActionOpenerRTOOn
		case 3:
			return models.ActionOpenerRTOOff
		case 4:
			if d.mode == ModeContinuous {
				return models.ActionOpenerCMOff
			}
			return models.ActionOpenerCMOn
		case 5:
			return models.ActionOpenerCMOn
		case 6:
			return models.ActionOpenerCMOff
		case 7:
			return models.ActionOpenerOpen
		}
		return 0
	}
	switch setting {
	case 1:
		return intelligent(d)
	case 2:
		return models.ActionUnlock
	case 3:
		return models.ActionLock
	case 4:
		return models.ActionUnlatch
	case 5:
		return models.ActionLockNGo
	}
	return 0 // 0 none, 6 show the status
}

// intelligent is a lock's "intelligent" action: a locked lock unlocks, any other locks.
func intelligent(d *device) models.LockAction {
	if d.state == StateLocked {
		return models.ActionUnlock
	}
	return models.ActionLock
}

func toggleRTO(d *device) models.LockAction {
	if d.state == OpenerRTOActive {
		return models.ActionOpenerRTOOff
	}
	return models.ActionOpenerRTOOn
}

// UseFob presses the button of a paired fob once, twice or three times (presses 1–3): the
// device carries out the action its configuration gives that press (fobAction1–3). A fob is
// an authorization of its own (type fob) that talks Bluetooth: the log records the fob's
// authorization and name with trigger 0 (system), as for an app. The reference names no
// trigger of its own for fobs; in the MQTT lockActionEvent a fob press is a lock action with
// trigger 0 (system/Bluetooth), the fob's auth id and the press count as extra.
// A fob the device does not hold, or holds disabled or outside its allowed times, is ignored
// by the device: ErrNotAuthorized, nothing logged.
func (b *Bridge) UseFob(t models.DeviceType, nukiID uint32, authID uint32, presses int) error {
	var a models.LockAction
	var who Actor
	err := b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		if presses < 1 || presses > 3 {
			return fmt.Errorf("%d presses: %w", presses, ErrInvalidAction)
		}
		now := b.localNow(d)
		var fob *Authorization
		for i := range d.auths {
			if x := &d.auths[i]; x.ID == authID && x.Type == AuthFob && x.Enabled && x.AllowedAt(now, now.Location()) {
				fob = x
			}
		}
		if fob == nil {
			return fmt.Errorf("fob %d: %w", authID, ErrNotAuthorized)
		}
		setting, _ := d.config[fmt.Sprintf("fobAction%d", presses)].(int)
		var err error
		a, err = fobAction(d, setting)
		who = Actor{AuthID: fob.ID, Name: fob.Name, System: true}
		return err
	})
	if err != nil || a == 0 {
		return err
	}
	return b.Action(context.Background(), t, nukiID, a, who, false)
}

// fobAction is the action of a fob setting (Web API "fobAction" codes), 0 for none.
func fobAction(d *device, setting int) (models.LockAction, error) {
	if d.spec.Type == models.DeviceOpener {
		switch setting {
		case 1:
			return toggleRTO(d), nil
		case 2:
			return models.ActionOpenerRTOOn, nil
		case 3:
			return models.ActionOpenerRTOOff, nil
		case 7:
			return models.ActionOpenerOpen, nil
		case 8:
			return 0, fmt.Errorf("fob action ring: %w", ErrInvalidAction) // not simulated
		}
		return 0, nil
	}
	switch setting {
	case 1:
		return models.ActionUnlock, nil
	case 2:
		return models.ActionLock, nil
	case 3:
		return models.ActionLockNGo, nil
	case 4:
		return intelligent(d), nil
	}
	return 0, nil
}

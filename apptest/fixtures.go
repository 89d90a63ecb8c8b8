package apptest

import (
	"context"

	"portier/devices/sim"
	"portier/models"
)

// OwnerLogin returns the main login that Setup created (DefaultOwner).
func (a *App) OwnerLogin() models.Login {
	a.T.Helper()
	login, _, err := a.Store.FindLoginByEmail(context.Background(), DefaultOwner.Email)
	if err != nil {
		a.T.Fatalf("the owner's login (run Setup first): %v", err)
	}
	return login
}

// AddDemoBridge adds a simulated bridge named "Home" with the demo devices (sim.DemoDevices)
// to the account and returns its devices.
func (a *App) AddDemoBridge(accountID int64) []models.Device {
	a.T.Helper()
	_, devs, err := a.Devices.AddSimulatedBridge(context.Background(), accountID, "Home", sim.DemoDevices(),
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	if err != nil {
		a.T.Fatal(err)
	}
	return devs
}

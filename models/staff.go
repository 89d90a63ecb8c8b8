package models

// Partner companies' staff (issue 8) act as their company: the activity log, its export and the
// Web API name the company only, never which staff member. The audit trail keeps the staff
// login: it is the administrators' record.

// StaffCompany is what the log knows of the company a staff member's login works for: the
// company (an account user of kind company) and, once it was merged into another person, that
// person (MergedID 0: not merged).
type StaffCompany struct {
	ID         int64
	Name       string
	MergedID   int64
	MergedName string
}

// AttributeToCompany returns log entry a of a staff member of company c as the company's: the
// company's name and the company as its account user (the person it was merged into, if so),
// without the staff member's login, so the company's entries stay the company's after the staff
// member is removed.
func AttributeToCompany(a Activity, c StaffCompany) Activity {
	id, name := c.ID, c.Name
	if c.MergedID != 0 {
		id, name = c.MergedID, c.MergedName
	}
	a.LoginID, a.UserID, a.Name = nil, &id, name
	return a
}

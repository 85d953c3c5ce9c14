package control

import (
	"context"
	"reflect"

	"github.com/simguard/simguard"
)

// ListGroups lists the caller's tenant's groups.
func (s *Service) ListGroups(ctx context.Context) ([]simguard.Group, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.ListGroups(ctx, a.TenantID)
}

// GetGroup returns one group of the caller's tenant.
func (s *Service) GetGroup(ctx context.Context, name string) (simguard.Group, error) {
	a, err := reader(ctx)
	if err != nil {
		return simguard.Group{}, err
	}
	return s.store.GetGroup(ctx, a.TenantID, name)
}

// CreateGroup adds a group; ECONFLICT if the name is taken.
func (s *Service) CreateGroup(ctx context.Context, g simguard.Group) (simguard.Group, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.Group{}, err
	}
	g.TenantID = a.TenantID
	if err := g.Validate(); err != nil {
		return simguard.Group{}, err
	}
	created, err := s.store.CreateGroup(ctx, g, simguard.Change{Actor: a, Action: "group.create"})
	if err != nil {
		return simguard.Group{}, err
	}
	s.groupChanged(created)
	return created, nil
}

// GroupPlan is what applying a group would do.
type GroupPlan struct {
	Exists  bool            `json:"exists"`
	Changed bool            `json:"changed"`
	Current *simguard.Group `json:"current,omitempty"`
	Desired simguard.Group  `json:"desired"`
	// Diff is a line diff of the two as YAML ("-" removed, "+" added).
	Diff string `json:"diff"`
}

// PlanGroup validates g and says what ApplyGroup would change, without
// changing anything.
func (s *Service) PlanGroup(ctx context.Context, g simguard.Group) (GroupPlan, error) {
	a, err := reader(ctx)
	if err != nil {
		return GroupPlan{}, err
	}
	g.TenantID = a.TenantID
	if err := g.Validate(); err != nil {
		return GroupPlan{}, err
	}
	plan := GroupPlan{Desired: g, Changed: true}
	cur, err := s.store.GetGroup(ctx, a.TenantID, g.Name)
	switch simguard.ErrorCode(err) {
	case "":
		plan.Exists = true
		plan.Current = &cur
		plan.Changed = cur.Description != g.Description || !reflect.DeepEqual(normalized(cur.Policy), normalized(g.Policy))
		plan.Diff = diffGroups(&cur, &g)
	case simguard.ENOTFOUND:
		plan.Diff = diffGroups(nil, &g)
	default:
		return GroupPlan{}, err
	}
	return plan, nil
}

// ApplyGroup creates g or replaces the group of that name. ifVersion guards
// the replacement (0: no guard). It reports whether the group was created.
func (s *Service) ApplyGroup(ctx context.Context, g simguard.Group, ifVersion int64) (simguard.Group, bool, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.Group{}, false, err
	}
	g.TenantID = a.TenantID
	if err := g.Validate(); err != nil {
		return simguard.Group{}, false, err
	}
	updated, err := s.store.UpdateGroup(ctx, a.TenantID, g.Name, ifVersion, simguard.Change{Actor: a, Action: "group.update"},
		func(cur *simguard.Group) error {
			cur.Description = g.Description
			cur.Policy = g.Policy
			return nil
		})
	if simguard.ErrorCode(err) == simguard.ENOTFOUND && ifVersion == 0 {
		created, err := s.CreateGroup(ctx, g)
		return created, err == nil, err
	}
	if err != nil {
		return simguard.Group{}, false, err
	}
	s.groupChanged(updated)
	return updated, false, nil
}

// DeleteGroup removes an empty group.
func (s *Service) DeleteGroup(ctx context.Context, name string, ifVersion int64) error {
	a, err := writer(ctx)
	if err != nil {
		return err
	}
	if err := s.store.DeleteGroup(ctx, a.TenantID, name, ifVersion, simguard.Change{Actor: a, Action: "group.delete"}); err != nil {
		return err
	}
	s.groupDeleted(a.TenantID, name)
	return nil
}

// normalized makes nil and empty slices compare equal.
func normalized(p simguard.Policy) simguard.Policy {
	b, _ := marshalYAML(p)
	var out simguard.Policy
	_ = unmarshalYAML(b, &out)
	return out
}

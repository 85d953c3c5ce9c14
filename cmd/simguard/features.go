package main

import (
	"flag"
)

// feature is one component of "simguard serve" beyond the API: an
// enforcement point (RADIUS, SMPP, Diameter, gateway), detection, the
// auditor, the console. Each has its own file with its config section,
// its flags and how it attaches to the running control plane.
type feature struct {
	name string
	// flags registers the feature's flags, bound to its config section.
	flags func(fs *flag.FlagSet, cfg *serveConfig)
	// check validates the feature's config before anything is opened or
	// created, so a typo fails the start cleanly (optional).
	check func(cfg *serveConfig, env *cliEnv) error
	// attach builds the feature on the control plane (cp.svc, cp.reg …)
	// and adds what must run to cp.components. It runs only when the
	// feature is enabled in cfg.
	attach func(cp *controlPlane) error
}

// features is the list serve wires, in start order.
var features = []feature{
	detectFeature,
	consoleFeature,
	{name: "radius", flags: radiusFlags, check: checkRADIUS, attach: attachRADIUS},
	{name: "smpp", flags: smppServeFlags, check: checkSMPP, attach: attachSMPP},
	scanFeature,
	{name: "gateway", flags: gatewayServeFlags, check: checkGateway, attach: attachGateway},
	diameterFeature,
}

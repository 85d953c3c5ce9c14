package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Type is an AVP data format (RFC 6733 §4.2, §4.3).
type Type uint8

const (
	TypeOctetString Type = iota + 1
	TypeInteger32
	TypeInteger64
	TypeUnsigned32
	TypeUnsigned64
	TypeGrouped
	TypeAddress
	TypeTime
	TypeUTF8String
	TypeIdentity // DiameterIdentity
	TypeURI      // DiameterURI
	TypeEnumerated
)

var typeNames = [...]string{"", "OctetString", "Integer32", "Integer64", "Unsigned32", "Unsigned64",
	"Grouped", "Address", "Time", "UTF8String", "DiameterIdentity", "DiameterURI", "Enumerated"}

func (t Type) String() string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return "Unknown"
}

// Vendor3GPP is the 3GPP's IANA enterprise number.
const Vendor3GPP = 10415

// Applications.
const (
	AppCommon uint32 = 0          // base protocol messages
	AppRelay  uint32 = 0xffffffff // relay agents advertise this
	AppS6a    uint32 = 16777251   // 3GPP S6a/S6d
	AppS13    uint32 = 16777252   // 3GPP S13/S13'
)

// Command codes.
const (
	CmdCapabilitiesExchange uint32 = 257
	CmdDeviceWatchdog       uint32 = 280
	CmdDisconnectPeer       uint32 = 282
	CmdUpdateLocation       uint32 = 316
	CmdCancelLocation       uint32 = 317
	CmdAuthenticationInfo   uint32 = 318
	CmdInsertSubscriberData uint32 = 319
	CmdDeleteSubscriberData uint32 = 320
	CmdPurgeUE              uint32 = 321
	CmdReset                uint32 = 322
	CmdNotify               uint32 = 323
	CmdMEIdentityCheck      uint32 = 324
)

// AVP codes of the base protocol (vendor 0).
const (
	AVPUserName                    uint32 = 1
	AVPHostIPAddress               uint32 = 257
	AVPAuthApplicationID           uint32 = 258
	AVPAcctApplicationID           uint32 = 259
	AVPVendorSpecificApplicationID uint32 = 260
	AVPSessionID                   uint32 = 263
	AVPOriginHost                  uint32 = 264
	AVPSupportedVendorID           uint32 = 265
	AVPVendorID                    uint32 = 266
	AVPFirmwareRevision            uint32 = 267
	AVPResultCode                  uint32 = 268
	AVPProductName                 uint32 = 269
	AVPDisconnectCause             uint32 = 273
	AVPAuthSessionState            uint32 = 277
	AVPOriginStateID               uint32 = 278
	AVPFailedAVP                   uint32 = 279
	AVPProxyHost                   uint32 = 280
	AVPErrorMessage                uint32 = 281
	AVPRouteRecord                 uint32 = 282
	AVPDestinationRealm            uint32 = 283
	AVPProxyInfo                   uint32 = 284
	AVPProxyState                  uint32 = 33
	AVPInbandSecurityID            uint32 = 299
	AVPDestinationHost             uint32 = 293
	AVPErrorReportingHost          uint32 = 294
	AVPOriginRealm                 uint32 = 296
	AVPExperimentalResult          uint32 = 297
	AVPExperimentalResultCode      uint32 = 298
)

// AVP codes of 3GPP TS 29.272 and TS 29.212 (vendor 10415).
const (
	AVPRATType               uint32 = 1032
	AVPSubscriptionData      uint32 = 1400
	AVPTerminalInformation   uint32 = 1401
	AVPIMEI                  uint32 = 1402
	AVPSoftwareVersion       uint32 = 1403
	AVPULRFlags              uint32 = 1405
	AVPULAFlags              uint32 = 1406
	AVPVisitedPLMNID         uint32 = 1407
	AVPRequestedEUTRANAuth   uint32 = 1408
	AVPCancellationType      uint32 = 1420
	AVPContextIdentifier     uint32 = 1423
	AVPSubscriberStatus      uint32 = 1424
	AVPAuthenticationInfo    uint32 = 1413
	AVPEquipmentStatus       uint32 = 1445
	AVPPURFlags              uint32 = 1635
	AVPIDRFlags              uint32 = 1490
	AVPDSRFlags              uint32 = 1421
	AVPCLRFlags              uint32 = 1638
	AVPUESRVCCCapability     uint32 = 1615
	AVPSupportedFeatures     uint32 = 628
	AVPFeatureListID         uint32 = 629
	AVPFeatureList           uint32 = 630
	AVPMSISDN                uint32 = 701
	AVPServiceSelection      uint32 = 493
	AVPTGPP2MEID             uint32 = 1471
	AVPNumberOfRequestedVecs uint32 = 1410
	AVPImmediateResponsePref uint32 = 1412
	AVPResyncInfo            uint32 = 1411
	AVPRequestedUTRANGERAN   uint32 = 1409
)

// Result codes (RFC 6733 §7.1).
const (
	ResultSuccess                  uint32 = 2001
	ResultCommandUnsupported       uint32 = 3001
	ResultUnableToDeliver          uint32 = 3002
	ResultRealmNotServed           uint32 = 3003
	ResultTooBusy                  uint32 = 3004
	ResultApplicationUnsupported   uint32 = 3007
	ResultInvalidHdrBits           uint32 = 3008
	ResultInvalidAVPBits           uint32 = 3009
	ResultUnknownPeer              uint32 = 3010
	ResultAVPUnsupported           uint32 = 5001
	ResultInvalidAVPValue          uint32 = 5004
	ResultMissingAVP               uint32 = 5005
	ResultUnableToComply           uint32 = 5012
	ResultNoCommonApplication      uint32 = 5010
	ResultInvalidAVPLength         uint32 = 5014
	ResultInvalidMessageLength     uint32 = 5015
	ResultNoCommonSecurity         uint32 = 5017
	ResultInvalidAVPBitCombo       uint32 = 5016
	ResultAuthorizationRejected    uint32 = 5003
	ResultContradictingAVPs        uint32 = 5007
	ResultAVPOccursTooManyTimes    uint32 = 5009
	ResultResourcesExceeded        uint32 = 5006
	ResultLimitedSuccess           uint32 = 2002
	ResultAuthenticationRejected   uint32 = 4001
	ResultOutOfSpace               uint32 = 4002
	ResultElectionLost             uint32 = 4003
	ResultUnsupportedVersion       uint32 = 5011
	ResultInvalidBitInHeader       uint32 = 5013
	ResultAuthSessionStateConflict uint32 = 5008
)

// Experimental result codes of TS 29.272 §7.4 (vendor 10415).
const (
	ExpUserUnknown            uint32 = 5001
	ExpRoamingNotAllowed      uint32 = 5004
	ExpUnknownEPSSubscription uint32 = 5420
	ExpRATNotAllowed          uint32 = 5421
	ExpEquipmentUnknown       uint32 = 5422
	ExpUnknownServingNode     uint32 = 5423
)

// Equipment-Status values (TS 29.272 §7.3.51).
const (
	EquipmentWhitelisted uint32 = 0
	EquipmentBlacklisted uint32 = 1
	EquipmentGreylisted  uint32 = 2
)

// AVPDef describes one AVP.
type AVPDef struct {
	Code   uint32
	Vendor uint32
	Name   string
	Type   Type
	// Must is the flag bits a sender sets (M, and V when Vendor != 0).
	Must uint8
}

// CommandDef names a command.
type CommandDef struct {
	Code         uint32
	Name         string
	Req, Ans     string // abbreviations, e.g. "ULR", "ULA"
	App          uint32 // the application it belongs to
	FromServer   bool   // the HSS sends the request (CLR, IDR, DSR, RSR)
	Proxiable    bool
	PlainCommand bool // a base protocol command that is never relayed
}

const mv = AVPMandatory | AVPVendor

// avpTable is the dictionary: base protocol (RFC 6733), S6a/S6d and S13
// (TS 29.272) and the few TS 29.212/29.329 AVPs they reuse.
var avpTable = []AVPDef{
	{AVPUserName, 0, "User-Name", TypeUTF8String, AVPMandatory},
	{AVPProxyState, 0, "Proxy-State", TypeOctetString, AVPMandatory},
	{AVPHostIPAddress, 0, "Host-IP-Address", TypeAddress, AVPMandatory},
	{AVPAuthApplicationID, 0, "Auth-Application-Id", TypeUnsigned32, AVPMandatory},
	{AVPAcctApplicationID, 0, "Acct-Application-Id", TypeUnsigned32, AVPMandatory},
	{AVPVendorSpecificApplicationID, 0, "Vendor-Specific-Application-Id", TypeGrouped, AVPMandatory},
	{AVPSessionID, 0, "Session-Id", TypeUTF8String, AVPMandatory},
	{AVPOriginHost, 0, "Origin-Host", TypeIdentity, AVPMandatory},
	{AVPSupportedVendorID, 0, "Supported-Vendor-Id", TypeUnsigned32, AVPMandatory},
	{AVPVendorID, 0, "Vendor-Id", TypeUnsigned32, AVPMandatory},
	{AVPFirmwareRevision, 0, "Firmware-Revision", TypeUnsigned32, 0},
	{AVPResultCode, 0, "Result-Code", TypeUnsigned32, AVPMandatory},
	{AVPProductName, 0, "Product-Name", TypeUTF8String, 0},
	{AVPDisconnectCause, 0, "Disconnect-Cause", TypeEnumerated, AVPMandatory},
	{AVPAuthSessionState, 0, "Auth-Session-State", TypeEnumerated, AVPMandatory},
	{AVPOriginStateID, 0, "Origin-State-Id", TypeUnsigned32, AVPMandatory},
	{AVPFailedAVP, 0, "Failed-AVP", TypeGrouped, AVPMandatory},
	{AVPProxyHost, 0, "Proxy-Host", TypeIdentity, AVPMandatory},
	{AVPErrorMessage, 0, "Error-Message", TypeUTF8String, 0},
	{AVPRouteRecord, 0, "Route-Record", TypeIdentity, AVPMandatory},
	{AVPDestinationRealm, 0, "Destination-Realm", TypeIdentity, AVPMandatory},
	{AVPProxyInfo, 0, "Proxy-Info", TypeGrouped, AVPMandatory},
	{AVPDestinationHost, 0, "Destination-Host", TypeIdentity, AVPMandatory},
	{AVPErrorReportingHost, 0, "Error-Reporting-Host", TypeIdentity, 0},
	{AVPOriginRealm, 0, "Origin-Realm", TypeIdentity, AVPMandatory},
	{AVPExperimentalResult, 0, "Experimental-Result", TypeGrouped, AVPMandatory},
	{AVPExperimentalResultCode, 0, "Experimental-Result-Code", TypeUnsigned32, AVPMandatory},
	{AVPInbandSecurityID, 0, "Inband-Security-Id", TypeUnsigned32, AVPMandatory},

	{AVPServiceSelection, 0, "Service-Selection", TypeUTF8String, AVPMandatory},
	{AVPSupportedFeatures, Vendor3GPP, "Supported-Features", TypeGrouped, AVPVendor},
	{AVPFeatureListID, Vendor3GPP, "Feature-List-ID", TypeUnsigned32, AVPVendor},
	{AVPFeatureList, Vendor3GPP, "Feature-List", TypeUnsigned32, AVPVendor},
	{AVPMSISDN, Vendor3GPP, "MSISDN", TypeOctetString, mv},
	{AVPRATType, Vendor3GPP, "RAT-Type", TypeEnumerated, mv},
	{AVPSubscriptionData, Vendor3GPP, "Subscription-Data", TypeGrouped, mv},
	{AVPTerminalInformation, Vendor3GPP, "Terminal-Information", TypeGrouped, mv},
	{AVPIMEI, Vendor3GPP, "IMEI", TypeUTF8String, mv},
	{AVPSoftwareVersion, Vendor3GPP, "Software-Version", TypeUTF8String, mv},
	{AVPULRFlags, Vendor3GPP, "ULR-Flags", TypeUnsigned32, mv},
	{AVPULAFlags, Vendor3GPP, "ULA-Flags", TypeUnsigned32, mv},
	{AVPVisitedPLMNID, Vendor3GPP, "Visited-PLMN-Id", TypeOctetString, mv},
	{AVPRequestedEUTRANAuth, Vendor3GPP, "Requested-EUTRAN-Authentication-Info", TypeGrouped, mv},
	{AVPRequestedUTRANGERAN, Vendor3GPP, "Requested-UTRAN-GERAN-Authentication-Info", TypeGrouped, mv},
	{AVPNumberOfRequestedVecs, Vendor3GPP, "Number-Of-Requested-Vectors", TypeUnsigned32, mv},
	{AVPResyncInfo, Vendor3GPP, "Re-Synchronization-Info", TypeOctetString, mv},
	{AVPImmediateResponsePref, Vendor3GPP, "Immediate-Response-Preferred", TypeUnsigned32, mv},
	{AVPAuthenticationInfo, Vendor3GPP, "Authentication-Info", TypeGrouped, mv},
	{AVPCancellationType, Vendor3GPP, "Cancellation-Type", TypeEnumerated, mv},
	{AVPDSRFlags, Vendor3GPP, "DSR-Flags", TypeUnsigned32, mv},
	{AVPContextIdentifier, Vendor3GPP, "Context-Identifier", TypeUnsigned32, mv},
	{AVPSubscriberStatus, Vendor3GPP, "Subscriber-Status", TypeEnumerated, mv},
	{AVPEquipmentStatus, Vendor3GPP, "Equipment-Status", TypeEnumerated, mv},
	{AVPTGPP2MEID, Vendor3GPP, "3GPP2-MEID", TypeOctetString, mv},
	{AVPIDRFlags, Vendor3GPP, "IDR-Flags", TypeUnsigned32, AVPVendor},
	{AVPUESRVCCCapability, Vendor3GPP, "UE-SRVCC-Capability", TypeEnumerated, AVPVendor},
	{AVPPURFlags, Vendor3GPP, "PUR-Flags", TypeUnsigned32, AVPVendor},
	{AVPCLRFlags, Vendor3GPP, "CLR-Flags", TypeUnsigned32, AVPVendor},
}

var commandTable = []CommandDef{
	{CmdCapabilitiesExchange, "Capabilities-Exchange", "CER", "CEA", AppCommon, false, false, true},
	{CmdDeviceWatchdog, "Device-Watchdog", "DWR", "DWA", AppCommon, false, false, true},
	{CmdDisconnectPeer, "Disconnect-Peer", "DPR", "DPA", AppCommon, false, false, true},
	{CmdUpdateLocation, "Update-Location", "ULR", "ULA", AppS6a, false, true, false},
	{CmdCancelLocation, "Cancel-Location", "CLR", "CLA", AppS6a, true, true, false},
	{CmdAuthenticationInfo, "Authentication-Information", "AIR", "AIA", AppS6a, false, true, false},
	{CmdInsertSubscriberData, "Insert-Subscriber-Data", "IDR", "IDA", AppS6a, true, true, false},
	{CmdDeleteSubscriberData, "Delete-Subscriber-Data", "DSR", "DSA", AppS6a, true, true, false},
	{CmdPurgeUE, "Purge-UE", "PUR", "PUA", AppS6a, false, true, false},
	{CmdReset, "Reset", "RSR", "RSA", AppS6a, true, true, false},
	{CmdNotify, "Notify", "NOR", "NOA", AppS6a, false, true, false},
	{CmdMEIdentityCheck, "ME-Identity-Check", "ECR", "ECA", AppS13, false, true, false},
}

type avpKey struct{ code, vendor uint32 }

var (
	avpIndex = func() map[avpKey]*AVPDef {
		m := make(map[avpKey]*AVPDef, len(avpTable))
		for i := range avpTable {
			d := &avpTable[i]
			m[avpKey{d.Code, d.Vendor}] = d
		}
		return m
	}()
	cmdIndex = func() map[uint32]*CommandDef {
		m := make(map[uint32]*CommandDef, len(commandTable))
		for i := range commandTable {
			m[commandTable[i].Code] = &commandTable[i]
		}
		return m
	}()
)

// LookupAVP finds the definition of an AVP; nil when it is not in the
// dictionary.
func LookupAVP(code, vendor uint32) *AVPDef { return avpIndex[avpKey{code, vendor}] }

// LookupCommand finds a command; nil when it is not in the dictionary.
func LookupCommand(code uint32) *CommandDef { return cmdIndex[code] }

// AppName names an application id.
func AppName(id uint32) string {
	switch id {
	case AppCommon:
		return "Diameter Common Messages"
	case AppRelay:
		return "Relay"
	case AppS6a:
		return "3GPP S6a/S6d"
	case AppS13:
		return "3GPP S13/S13'"
	}
	return fmt.Sprintf("application %d", id)
}

// CommandAbbrev is the short name of a message, e.g. "ULR" or "ECA";
// "cmd-N" for commands outside the dictionary.
func CommandAbbrev(code uint32, request bool) string {
	if d := LookupCommand(code); d != nil {
		if request {
			return d.Req
		}
		return d.Ans
	}
	if request {
		return fmt.Sprintf("cmd-%d-req", code)
	}
	return fmt.Sprintf("cmd-%d-ans", code)
}

// AVPError is an AVP that failed validation, with the Result-Code RFC
// 6733 prescribes and the AVP to return in Failed-AVP.
type AVPError struct {
	Result uint32
	AVP    AVP
	Err    error
}

func (e *AVPError) Error() string { return e.Err.Error() }
func (e *AVPError) Unwrap() error { return e.Err }

// ErrAVPValue is wrapped by value errors (e.g. invalid UTF-8).
var ErrAVPValue = errors.New("diameter: invalid AVP value")

// Validate checks every AVP the dictionary knows (recursively into
// grouped AVPs) against its type: fixed sizes, Address families, UTF-8.
// AVPs it does not know pass: a relay forwards what it does not
// understand, and an endpoint decides about M-bit AVPs itself.
func Validate(avps []AVP) error { return validate(avps, 0) }

func validate(avps []AVP, depth int) error {
	if depth > maxDepth {
		return ErrTooDeep
	}
	for i := range avps {
		a := &avps[i]
		vendor := uint32(0)
		if a.Flags&AVPVendor != 0 {
			vendor = a.Vendor
		}
		d := LookupAVP(a.Code, vendor)
		if d == nil {
			continue
		}
		if err := checkValue(a, d, depth); err != nil {
			return err
		}
	}
	return nil
}

func checkValue(a *AVP, d *AVPDef, depth int) error {
	want := 0
	switch d.Type {
	case TypeInteger32, TypeUnsigned32, TypeEnumerated, TypeTime:
		want = 4
	case TypeInteger64, TypeUnsigned64:
		want = 8
	case TypeAddress:
		if _, err := a.Address(); err != nil {
			return &AVPError{ResultInvalidAVPValue, *a, fmt.Errorf("%s: %w", d.Name, err)}
		}
	case TypeUTF8String, TypeIdentity, TypeURI:
		if !utf8.Valid(a.Data) {
			return &AVPError{ResultInvalidAVPValue, *a, fmt.Errorf("%w: %s is not UTF-8", ErrAVPValue, d.Name)}
		}
	case TypeGrouped:
		// Walk the group in place: validation allocates nothing.
		var inner [1]AVP
		b := a.Data
		for len(b) > 0 {
			rest, err := nextAVP(&inner[0], b)
			if err != nil {
				return &AVPError{ResultInvalidAVPLength, *a, fmt.Errorf("%s: %w", d.Name, err)}
			}
			if err := validate(inner[:], depth+1); err != nil {
				return err
			}
			b = rest
		}
	}
	if want != 0 && len(a.Data) != want {
		return &AVPError{ResultInvalidAVPLength, *a, fmt.Errorf("%w: %s is %d bytes, want %d", ErrAVPLength, d.Name, len(a.Data), want)}
	}
	return nil
}

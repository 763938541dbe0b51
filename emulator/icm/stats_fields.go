// The window fields below were generated from one table of counters so that the three windows stay in step; edit the table (see stats.go) rather than single fields.

package icm

// SkillGroupWindows holds the To5, ToHalf and Today counters of a skill group
// with the CTI QUERY_SKILL_GROUP_STATISTICS_CONF / Skill_Group_Real_Time names
// (cti-protocol.md §3.2, ipcc-behaviour.md §1.5–1.6). Times are seconds.
type SkillGroupWindows struct {
	CallsOfferedTo5              uint32
	RouterQueueCallsTo5          uint32
	CallsAnsweredTo5             uint32
	AnswerWaitTimeTo5            uint32
	HandledCallsTo5              uint32
	HandledCallsTalkTimeTo5      uint32
	HandledCallsAfterCallTimeTo5 uint32
	HandledCallsTimeTo5          uint32
	ServiceLevelCallsTo5         uint32
	ServiceLevelCallsOfferedTo5  uint32
	ServiceLevelCallsAbandTo5    uint32
	ServiceLevelCallsDequeuedTo5 uint32
	ServiceLevelRonaTo5          uint32
	RouterCallsAbandQTo5         uint32
	RouterCallsAbandToAgentTo5   uint32
	RedirectNoAnsCallsTo5        uint32
	ShortCallsTo5                uint32
	ServiceLevelTo5              float64

	CallsOfferedToHalf              uint32
	RouterQueueCallsToHalf          uint32
	CallsAnsweredToHalf             uint32
	AnswerWaitTimeToHalf            uint32
	HandledCallsToHalf              uint32
	HandledCallsTalkTimeToHalf      uint32
	HandledCallsAfterCallTimeToHalf uint32
	HandledCallsTimeToHalf          uint32
	ServiceLevelCallsToHalf         uint32
	ServiceLevelCallsOfferedToHalf  uint32
	ServiceLevelCallsAbandToHalf    uint32
	ServiceLevelCallsDequeuedToHalf uint32
	ServiceLevelRonaToHalf          uint32
	RouterCallsAbandQToHalf         uint32
	RouterCallsAbandToAgentToHalf   uint32
	RedirectNoAnsCallsToHalf        uint32
	ShortCallsToHalf                uint32
	ServiceLevelToHalf              float64

	CallsOfferedToday              uint32
	RouterQueueCallsToday          uint32
	CallsAnsweredToday             uint32
	AnswerWaitTimeToday            uint32
	HandledCallsToday              uint32
	HandledCallsTalkTimeToday      uint32
	HandledCallsAfterCallTimeToday uint32
	HandledCallsTimeToday          uint32
	ServiceLevelCallsToday         uint32
	ServiceLevelCallsOfferedToday  uint32
	ServiceLevelCallsAbandToday    uint32
	ServiceLevelCallsDequeuedToday uint32
	ServiceLevelRonaToday          uint32
	RouterCallsAbandQToday         uint32
	RouterCallsAbandToAgentToday   uint32
	RedirectNoAnsCallsToday        uint32
	ShortCallsToday                uint32
	ServiceLevelToday              float64
}

// CallTypeWindows holds the To5, Half and Today counters of a call type with
// the Call_Type_Real_Time names (ipcc-behaviour.md §1.5). Times are seconds.
type CallTypeWindows struct {
	CallsOfferedTo5              uint32
	RouterQueueCallsTo5          uint32
	CallsAnsweredTo5             uint32
	AnswerWaitTimeTo5            uint32
	CallsHandledTo5              uint32
	HandledCallsTalkTimeTo5      uint32
	HandledCallsAfterCallTimeTo5 uint32
	HandledCallsTimeTo5          uint32
	ServiceLevelCallsTo5         uint32
	ServiceLevelCallsOfferedTo5  uint32
	ServiceLevelAbandTo5         uint32
	ServiceLevelCallsDequeuedTo5 uint32
	ServiceLevelRonaTo5          uint32
	RouterCallsAbandQTo5         uint32
	RouterCallsAbandToAgentTo5   uint32
	RedirectNoAnsTo5             uint32
	ShortCallsTo5                uint32
	ServiceLevelTo5              float64

	CallsOfferedHalf              uint32
	RouterQueueCallsHalf          uint32
	CallsAnsweredHalf             uint32
	AnswerWaitTimeHalf            uint32
	CallsHandledHalf              uint32
	HandledCallsTalkTimeHalf      uint32
	HandledCallsAfterCallTimeHalf uint32
	HandledCallsTimeHalf          uint32
	ServiceLevelCallsHalf         uint32
	ServiceLevelCallsOfferedHalf  uint32
	ServiceLevelAbandHalf         uint32
	ServiceLevelCallsDequeuedHalf uint32
	ServiceLevelRonaHalf          uint32
	RouterCallsAbandQHalf         uint32
	RouterCallsAbandToAgentHalf   uint32
	RedirectNoAnsHalf             uint32
	ShortCallsHalf                uint32
	ServiceLevelHalf              float64

	CallsOfferedToday              uint32
	RouterQueueCallsToday          uint32
	CallsAnsweredToday             uint32
	AnswerWaitTimeToday            uint32
	CallsHandledToday              uint32
	HandledCallsTalkTimeToday      uint32
	HandledCallsAfterCallTimeToday uint32
	HandledCallsTimeToday          uint32
	ServiceLevelCallsToday         uint32
	ServiceLevelCallsOfferedToday  uint32
	ServiceLevelAbandToday         uint32
	ServiceLevelCallsDequeuedToday uint32
	ServiceLevelRonaToday          uint32
	RouterCallsAbandQToday         uint32
	RouterCallsAbandToAgentToday   uint32
	RedirectNoAnsToday             uint32
	ShortCallsToday                uint32
	ServiceLevelToday              float64
}

func fillSkillGroupWindow(s *SkillGroupWindows, w Window, c Counters, t SLType) {
	switch w {
	case To5:
		s.CallsOfferedTo5 = u32(c.CallsOffered)
		s.RouterQueueCallsTo5 = u32(c.RouterQueueCalls)
		s.CallsAnsweredTo5 = u32(c.CallsAnswered)
		s.AnswerWaitTimeTo5 = secs(c.AnswerWaitTime)
		s.HandledCallsTo5 = u32(c.HandledCalls)
		s.HandledCallsTalkTimeTo5 = secs(c.HandledCallsTalkTime)
		s.HandledCallsAfterCallTimeTo5 = secs(c.HandledCallsAfterCallTime)
		s.HandledCallsTimeTo5 = secs(c.HandledCallsTime)
		s.ServiceLevelCallsTo5 = u32(c.ServiceLevelCalls)
		s.ServiceLevelCallsOfferedTo5 = u32(c.ServiceLevelCallsOffered)
		s.ServiceLevelCallsAbandTo5 = u32(c.ServiceLevelAband)
		s.ServiceLevelCallsDequeuedTo5 = u32(c.ServiceLevelDequeued)
		s.ServiceLevelRonaTo5 = u32(c.ServiceLevelRona)
		s.RouterCallsAbandQTo5 = u32(c.RouterCallsAbandQ)
		s.RouterCallsAbandToAgentTo5 = u32(c.RouterCallsAbandToAgent)
		s.RedirectNoAnsCallsTo5 = u32(c.RedirectNoAns)
		s.ShortCallsTo5 = u32(c.ShortCalls)
		s.ServiceLevelTo5 = c.ServiceLevel(t)
	case ToHalf:
		s.CallsOfferedToHalf = u32(c.CallsOffered)
		s.RouterQueueCallsToHalf = u32(c.RouterQueueCalls)
		s.CallsAnsweredToHalf = u32(c.CallsAnswered)
		s.AnswerWaitTimeToHalf = secs(c.AnswerWaitTime)
		s.HandledCallsToHalf = u32(c.HandledCalls)
		s.HandledCallsTalkTimeToHalf = secs(c.HandledCallsTalkTime)
		s.HandledCallsAfterCallTimeToHalf = secs(c.HandledCallsAfterCallTime)
		s.HandledCallsTimeToHalf = secs(c.HandledCallsTime)
		s.ServiceLevelCallsToHalf = u32(c.ServiceLevelCalls)
		s.ServiceLevelCallsOfferedToHalf = u32(c.ServiceLevelCallsOffered)
		s.ServiceLevelCallsAbandToHalf = u32(c.ServiceLevelAband)
		s.ServiceLevelCallsDequeuedToHalf = u32(c.ServiceLevelDequeued)
		s.ServiceLevelRonaToHalf = u32(c.ServiceLevelRona)
		s.RouterCallsAbandQToHalf = u32(c.RouterCallsAbandQ)
		s.RouterCallsAbandToAgentToHalf = u32(c.RouterCallsAbandToAgent)
		s.RedirectNoAnsCallsToHalf = u32(c.RedirectNoAns)
		s.ShortCallsToHalf = u32(c.ShortCalls)
		s.ServiceLevelToHalf = c.ServiceLevel(t)
	case Today:
		s.CallsOfferedToday = u32(c.CallsOffered)
		s.RouterQueueCallsToday = u32(c.RouterQueueCalls)
		s.CallsAnsweredToday = u32(c.CallsAnswered)
		s.AnswerWaitTimeToday = secs(c.AnswerWaitTime)
		s.HandledCallsToday = u32(c.HandledCalls)
		s.HandledCallsTalkTimeToday = secs(c.HandledCallsTalkTime)
		s.HandledCallsAfterCallTimeToday = secs(c.HandledCallsAfterCallTime)
		s.HandledCallsTimeToday = secs(c.HandledCallsTime)
		s.ServiceLevelCallsToday = u32(c.ServiceLevelCalls)
		s.ServiceLevelCallsOfferedToday = u32(c.ServiceLevelCallsOffered)
		s.ServiceLevelCallsAbandToday = u32(c.ServiceLevelAband)
		s.ServiceLevelCallsDequeuedToday = u32(c.ServiceLevelDequeued)
		s.ServiceLevelRonaToday = u32(c.ServiceLevelRona)
		s.RouterCallsAbandQToday = u32(c.RouterCallsAbandQ)
		s.RouterCallsAbandToAgentToday = u32(c.RouterCallsAbandToAgent)
		s.RedirectNoAnsCallsToday = u32(c.RedirectNoAns)
		s.ShortCallsToday = u32(c.ShortCalls)
		s.ServiceLevelToday = c.ServiceLevel(t)
	}
}

func fillCallTypeWindow(s *CallTypeWindows, w Window, c Counters, t SLType) {
	switch w {
	case To5:
		s.CallsOfferedTo5 = u32(c.CallsOffered)
		s.RouterQueueCallsTo5 = u32(c.RouterQueueCalls)
		s.CallsAnsweredTo5 = u32(c.CallsAnswered)
		s.AnswerWaitTimeTo5 = secs(c.AnswerWaitTime)
		s.CallsHandledTo5 = u32(c.HandledCalls)
		s.HandledCallsTalkTimeTo5 = secs(c.HandledCallsTalkTime)
		s.HandledCallsAfterCallTimeTo5 = secs(c.HandledCallsAfterCallTime)
		s.HandledCallsTimeTo5 = secs(c.HandledCallsTime)
		s.ServiceLevelCallsTo5 = u32(c.ServiceLevelCalls)
		s.ServiceLevelCallsOfferedTo5 = u32(c.ServiceLevelCallsOffered)
		s.ServiceLevelAbandTo5 = u32(c.ServiceLevelAband)
		s.ServiceLevelCallsDequeuedTo5 = u32(c.ServiceLevelDequeued)
		s.ServiceLevelRonaTo5 = u32(c.ServiceLevelRona)
		s.RouterCallsAbandQTo5 = u32(c.RouterCallsAbandQ)
		s.RouterCallsAbandToAgentTo5 = u32(c.RouterCallsAbandToAgent)
		s.RedirectNoAnsTo5 = u32(c.RedirectNoAns)
		s.ShortCallsTo5 = u32(c.ShortCalls)
		s.ServiceLevelTo5 = c.ServiceLevel(t)
	case ToHalf:
		s.CallsOfferedHalf = u32(c.CallsOffered)
		s.RouterQueueCallsHalf = u32(c.RouterQueueCalls)
		s.CallsAnsweredHalf = u32(c.CallsAnswered)
		s.AnswerWaitTimeHalf = secs(c.AnswerWaitTime)
		s.CallsHandledHalf = u32(c.HandledCalls)
		s.HandledCallsTalkTimeHalf = secs(c.HandledCallsTalkTime)
		s.HandledCallsAfterCallTimeHalf = secs(c.HandledCallsAfterCallTime)
		s.HandledCallsTimeHalf = secs(c.HandledCallsTime)
		s.ServiceLevelCallsHalf = u32(c.ServiceLevelCalls)
		s.ServiceLevelCallsOfferedHalf = u32(c.ServiceLevelCallsOffered)
		s.ServiceLevelAbandHalf = u32(c.ServiceLevelAband)
		s.ServiceLevelCallsDequeuedHalf = u32(c.ServiceLevelDequeued)
		s.ServiceLevelRonaHalf = u32(c.ServiceLevelRona)
		s.RouterCallsAbandQHalf = u32(c.RouterCallsAbandQ)
		s.RouterCallsAbandToAgentHalf = u32(c.RouterCallsAbandToAgent)
		s.RedirectNoAnsHalf = u32(c.RedirectNoAns)
		s.ShortCallsHalf = u32(c.ShortCalls)
		s.ServiceLevelHalf = c.ServiceLevel(t)
	case Today:
		s.CallsOfferedToday = u32(c.CallsOffered)
		s.RouterQueueCallsToday = u32(c.RouterQueueCalls)
		s.CallsAnsweredToday = u32(c.CallsAnswered)
		s.AnswerWaitTimeToday = secs(c.AnswerWaitTime)
		s.CallsHandledToday = u32(c.HandledCalls)
		s.HandledCallsTalkTimeToday = secs(c.HandledCallsTalkTime)
		s.HandledCallsAfterCallTimeToday = secs(c.HandledCallsAfterCallTime)
		s.HandledCallsTimeToday = secs(c.HandledCallsTime)
		s.ServiceLevelCallsToday = u32(c.ServiceLevelCalls)
		s.ServiceLevelCallsOfferedToday = u32(c.ServiceLevelCallsOffered)
		s.ServiceLevelAbandToday = u32(c.ServiceLevelAband)
		s.ServiceLevelCallsDequeuedToday = u32(c.ServiceLevelDequeued)
		s.ServiceLevelRonaToday = u32(c.ServiceLevelRona)
		s.RouterCallsAbandQToday = u32(c.RouterCallsAbandQ)
		s.RouterCallsAbandToAgentToday = u32(c.RouterCallsAbandToAgent)
		s.RedirectNoAnsToday = u32(c.RedirectNoAns)
		s.ShortCallsToday = u32(c.ShortCalls)
		s.ServiceLevelToday = c.ServiceLevel(t)
	}
}

// The portal's words for the review every template, send, trigger rule and subscription item
// goes through, in one place: staff who meet a refusal on one page must meet the same word on
// the next one and in the API's messages. A refusal is 不通过 (never 驳回 or 退回); the state it
// leaves is 审核未通过. tests/unit/test_vocabulary.py fails when a page uses another word.

export const TERMS = Object.freeze({
  submit: "提交审核",
  submitted: "已提交审核",
  approve: "审核通过",
  approved: "已审核通过",
  refuse: "不通过",
  refused: "已审核不通过",
  refusedState: "审核未通过",
  refuseReason: "不通过的原因",
  refuseHint: "选择“不通过”时必填，提交人会看到",
});

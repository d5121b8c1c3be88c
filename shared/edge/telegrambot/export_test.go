package telegrambot

// SplitMessage is splitMessage, for the tests.
var SplitMessage = splitMessage

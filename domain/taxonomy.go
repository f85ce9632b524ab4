package domain

import "slices"

// Kind is the WHO ICPS incident class of a signal.
type Kind string

// Incident classes (WHO ICPS).
const (
	KindUnsafeSituation Kind = "unsafe_situation"
	KindNearMiss        Kind = "near_miss"
	KindNoHarmIncident  Kind = "no_harm_incident"
	KindHarmfulIncident Kind = "harmful_incident"
)

// Kinds lists every incident class in a stable order.
func Kinds() []Kind {
	return []Kind{KindUnsafeSituation, KindNearMiss, KindNoHarmIncident, KindHarmfulIncident}
}

// Valid reports whether k is a known incident class.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Category is one of the 13 WHO ICPS incident types.
type Category string

// Incident types (WHO ICPS).
const (
	CategoryClinicalAdministration        Category = "clinical_administration"
	CategoryClinicalProcess               Category = "clinical_process"
	CategoryDocumentation                 Category = "documentation"
	CategoryHealthcareAssociatedInfection Category = "healthcare_associated_infection"
	CategoryMedication                    Category = "medication"
	CategoryBlood                         Category = "blood"
	CategoryNutrition                     Category = "nutrition"
	CategoryOxygenGas                     Category = "oxygen_gas"
	CategoryMedicalDevice                 Category = "medical_device"
	CategoryBehaviour                     Category = "behaviour"
	CategoryPatientAccident               Category = "patient_accident"
	CategoryInfrastructure                Category = "infrastructure"
	CategoryResourcesManagement           Category = "resources_management"
)

// Categories lists every incident type in the ICPS order.
func Categories() []Category {
	return []Category{
		CategoryClinicalAdministration, CategoryClinicalProcess, CategoryDocumentation,
		CategoryHealthcareAssociatedInfection, CategoryMedication, CategoryBlood,
		CategoryNutrition, CategoryOxygenGas, CategoryMedicalDevice, CategoryBehaviour,
		CategoryPatientAccident, CategoryInfrastructure, CategoryResourcesManagement,
	}
}

// Valid reports whether c is a known incident type.
func (c Category) Valid() bool { return slices.Contains(Categories(), c) }

// Harm is the ICPS degree of harm to the patient.
type Harm string

// Degrees of harm (WHO ICPS), from least to most severe.
const (
	HarmNone     Harm = "none"
	HarmMild     Harm = "mild"
	HarmModerate Harm = "moderate"
	HarmSevere   Harm = "severe"
	HarmDeath    Harm = "death"
)

// Harms lists every degree of harm from least to most severe.
func Harms() []Harm { return []Harm{HarmNone, HarmMild, HarmModerate, HarmSevere, HarmDeath} }

// Valid reports whether h is a known degree of harm.
func (h Harm) Valid() bool { return slices.Contains(Harms(), h) }

// Rank orders degrees of harm: none is 0, death is 4, unknown is -1.
func (h Harm) Rank() int { return slices.Index(Harms(), h) }

// Specialty is a medical specialty code.
type Specialty string

// Specialties lists the specialty codes a signal can carry.
func Specialties() []Specialty {
	return []Specialty{
		"anaesthesiology", "cardiology", "cardiothoracic_surgery", "dermatology",
		"emergency_medicine", "endocrinology", "gastroenterology", "general_practice",
		"geriatrics", "gynaecology_obstetrics", "haematology", "intensive_care",
		"internal_medicine", "microbiology", "nephrology", "neurology", "neurosurgery",
		"nursing", "oncology", "ophthalmology", "orthopaedics", "otorhinolaryngology",
		"paediatrics", "pathology", "pharmacy", "psychiatry", "pulmonology", "radiology",
		"rehabilitation", "surgery", "urology", "other",
	}
}

// Valid reports whether s is a known specialty.
func (s Specialty) Valid() bool { return slices.Contains(Specialties(), s) }

// Language is the language a signal was written in.
type Language string

// Languages lists the languages of the networks Safesignal serves.
func Languages() []Language { return []Language{"en", "nl", "nb", "nn", "sv", "da"} }

// Valid reports whether l is a supported language.
func (l Language) Valid() bool { return slices.Contains(Languages(), l) }

// ValidRegion reports whether s has the shape of an ISO 3166-2 subdivision
// code: two upper-case letters, a hyphen and one to three upper-case letters
// or digits (NL-UT, NO-18, SE-AB).
func ValidRegion(s string) bool {
	if len(s) < 4 || len(s) > 6 || s[2] != '-' {
		return false
	}
	for i := range 2 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	for _, r := range s[3:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// Country returns the ISO 3166-1 alpha-2 part of a region code.
func Country(region string) string {
	if len(region) < 2 {
		return ""
	}
	return region[:2]
}

// ContributingFactor is a circumstance that contributed to an incident,
// after the contributing factors/hazards class of the WHO ICPS, refined
// into the groups safety officers use most.
type ContributingFactor string

// Contributing factors (WHO ICPS contributing factors/hazards).
const (
	FactorStaff              ContributingFactor = "staff_factors"
	FactorPatient            ContributingFactor = "patient_factors"
	FactorTeam               ContributingFactor = "team_factors"
	FactorCommunication      ContributingFactor = "communication"
	FactorTaskTechnology     ContributingFactor = "task_technology"
	FactorEquipment          ContributingFactor = "equipment"
	FactorMedicationProcess  ContributingFactor = "medication_process"
	FactorWorkEnvironment    ContributingFactor = "work_environment"
	FactorStaffingWorkload   ContributingFactor = "staffing_workload"
	FactorPoliciesProcedures ContributingFactor = "policies_procedures"
	FactorTrainingEducation  ContributingFactor = "training_education"
	FactorOrganisational     ContributingFactor = "organisational"
	FactorExternal           ContributingFactor = "external"
)

// ContributingFactors lists every contributing factor in a stable order.
func ContributingFactors() []ContributingFactor {
	return []ContributingFactor{
		FactorStaff, FactorPatient, FactorTeam, FactorCommunication, FactorTaskTechnology,
		FactorEquipment, FactorMedicationProcess, FactorWorkEnvironment, FactorStaffingWorkload,
		FactorPoliciesProcedures, FactorTrainingEducation, FactorOrganisational, FactorExternal,
	}
}

// Valid reports whether f is a known contributing factor.
func (f ContributingFactor) Valid() bool { return slices.Contains(ContributingFactors(), f) }
